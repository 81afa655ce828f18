"""Tiny files in the real datasets' formats, shared by builder and training tests.

DeepSEA's bundle: ``train.mat`` is written as MATLAB v7.3 does it (HDF5 behind a
512-byte user block with MATLAB's header text, arrays stored with MATLAB's axes
reversed: h5py shape ``(1000, 4, N)`` and ``(919, N)``); ``valid.mat``/``test.mat``
are MATLAB v5 from ``scipy.io.savemat`` with shapes ``(N, 4, 1000)`` and
``(N, 919)``, one-hot in the bundle's A,G,C,T order.

Intervals: a small genome (FASTA) that alternates AT-rich (GC 0.3) and GC-rich
(GC 0.7) blocks with N runs and a soft-masked stretch, and narrowPeak files whose
peaks sit mostly in the GC-rich blocks.
"""

import h5py
import numpy as np
import scipy.io

from data_builders import deepsea

# ----------------------------------------------------------------------------------
# DeepSEA .mat bundle.
# ----------------------------------------------------------------------------------

DEEPSEA_LENGTH = deepsea.SEQUENCE_LENGTH
DEEPSEA_NUM_LABELS = deepsea.NUM_LABELS
DEEPSEA_SIZES = {"train": 11, "valid": 6, "test": 5}
MATLAB_HEADER = (b"MATLAB 7.3 MAT-file, Platform: GLNXA64, Created on: "
                 b"Mon Jan  5 10:00:00 2015 HDF5 schema 1.00 .")


def random_sequences(rng, count):
  """``count`` strings of DeepSEA's length over ACGT, an N run in every third."""
  sequences = []
  for i in range(count):
    letters = rng.choice(list("ACGT"), size=DEEPSEA_LENGTH)
    if i % 3 == 0:
      start = int(rng.integers(0, DEEPSEA_LENGTH - 50))
      letters[start:start + 50] = "N"
    sequences.append("".join(letters))
  return sequences


def bundle_one_hot(sequences):
  """MATLAB-order ``(N, 4, 1000)`` uint8 one-hot over A,G,C,T (N all zeros)."""
  out = np.zeros((len(sequences), 4, DEEPSEA_LENGTH), dtype=np.uint8)
  for n, sequence in enumerate(sequences):
    for position, base in enumerate(sequence):
      if base in "AGCT":
        out[n, "AGCT".index(base), position] = 1
  return out


def write_v73(path, variables):
  """A MATLAB v7.3 file: HDF5 with a 512-byte user block, axes reversed."""
  with h5py.File(path, "w", userblock_size=512) as f:
    for name, array in variables.items():
      dataset = f.create_dataset(name, data=np.transpose(array),
                                 compression="gzip", chunks=True)
      dataset.attrs["MATLAB_class"] = np.bytes_("uint8")
  header = MATLAB_HEADER.ljust(116, b" ") + b"\0" * 8 + b"\x00\x02IM"
  with open(path, "r+b") as f:
    f.write(header)


def write_deepsea_bundle(directory, rng, names=True):
  """Writes train/valid/test .mat files; returns ``{split: (strings, labels)}``.

  Args:
    directory: where the files go (created if missing), like ``deepsea_train/``.
    rng: a ``np.random.Generator``; labels are positive with probability 0.1.
    names: also write ``predictor.names`` (``Cell<i>|DNase|None`` per label).
  """
  directory.mkdir(parents=True, exist_ok=True)
  truth = {}
  for split, count in DEEPSEA_SIZES.items():
    sequences = random_sequences(rng, count)
    labels = (rng.random((count, DEEPSEA_NUM_LABELS)) < 0.1).astype(np.uint8)
    truth[split] = (sequences, labels)
    filename, x_name, y_name = deepsea.SPLIT_FILES[split]
    variables = {x_name: bundle_one_hot(sequences), y_name: labels}
    if split == "train":
      write_v73(directory / filename, variables)
    else:
      scipy.io.savemat(directory / filename, variables)
  if names:
    (directory / deepsea.LABEL_NAMES_FILE).write_text(
        "".join(f"Cell{i}|DNase|None\n" for i in range(DEEPSEA_NUM_LABELS)))
  return truth


# ----------------------------------------------------------------------------------
# FASTA genome and narrowPeak BEDs.
# ----------------------------------------------------------------------------------

CHROM_SIZES = {"chr1": 7000, "chr2": 6000, "chr7": 5000, "chr8": 5000,
               "chr9": 4000, "chrUn": 3000}
N_RUNS = {"chr1": (1000, 1300), "chr2": (0, 250), "chr8": (2500, 2600)}
BLOCK = 500
PEAK_CHROMOSOMES = ("chr1", "chr2", "chr7", "chr8", "chr9")


def genome(rng):
  """``{chrom: sequence}`` over ``CHROM_SIZES`` in alternating GC 0.3/0.7 blocks."""
  sequences = {}
  for chrom, size in CHROM_SIZES.items():
    gc = np.where((np.arange(size) // BLOCK) % 2 == 1, 0.7, 0.3)
    u = rng.random(size)
    letters = np.where(u < gc / 2, "G", np.where(u < gc, "C", np.where(
        u < gc + (1 - gc) / 2, "A", "T")))
    if chrom in N_RUNS:
      letters[slice(*N_RUNS[chrom])] = "N"
    text = "".join(letters)
    # Soft-masked stretch: lower case must read as upper case.
    sequences[chrom] = text[:300] + text[300:400].lower() + text[400:]
  return sequences


def write_fasta(path, sequences, width=60):
  with open(path, "w") as f:
    for chrom, text in sequences.items():
      f.write(f">{chrom} test sequence\n")
      for i in range(0, len(text), width):
        f.write(text[i:i + width] + "\n")


def peaks(rng, chrom, count, gc_rich_fraction):
  """``count`` peaks of 60-150 bp, mostly inside GC-rich blocks."""
  size = CHROM_SIZES[chrom]
  rich = [b * BLOCK for b in range(size // BLOCK) if b % 2 == 1]
  poor = [b * BLOCK for b in range(size // BLOCK) if b % 2 == 0]
  rows = []
  for _ in range(count):
    blocks = rich if rng.random() < gc_rich_fraction else poor
    block = blocks[int(rng.integers(len(blocks)))]
    length = int(rng.integers(60, 151))
    start = block + int(rng.integers(0, BLOCK - length))
    rows.append((chrom, start, start + length))
  return rows


def write_narrowpeak(path, rows, rng):
  """narrowPeak lines; half the peaks give a summit, half say -1 (midpoint)."""
  with open(path, "w") as f:
    for i, (chrom, start, end) in enumerate(rows):
      summit = int(rng.integers(0, end - start)) if i % 2 else -1
      f.write(f"{chrom}\t{start}\t{end}\tpeak{i}\t0\t.\t5.0\t-1\t-1\t{summit}\n")


def write_genome_and_peaks(root, rng, counts, gc_rich_fraction=0.9):
  """``root/genome.fa`` and one ``<name>.narrowPeak`` per entry of ``counts``.

  Args:
    root: a ``pathlib.Path`` directory.
    rng: a ``np.random.Generator``.
    counts: ``{name: peaks per chromosome}``, one BED file (label) per name.
    gc_rich_fraction: share of peaks placed in GC-rich blocks.

  Returns:
    ``(sequences, {name: path})``.
  """
  sequences = genome(rng)
  write_fasta(root / "genome.fa", sequences)
  beds = {}
  for name, count in counts.items():
    rows = []
    for chrom in PEAK_CHROMOSOMES:
      rows += peaks(rng, chrom, count, gc_rich_fraction)
    beds[name] = root / f"{name}.narrowPeak"
    write_narrowpeak(beds[name], rows, rng)
  return sequences, beds


# ----------------------------------------------------------------------------------
# UniProtKB/Swiss-Prot flat-file records (uniprot_ptm, uniprot_localization).
# ----------------------------------------------------------------------------------

def swissprot_entry(name, accession, sequence, features=(), comments=(),
                    lineage="Eukaryota; Metazoa; Chordata; Craniata; Vertebrata"):
  """One record in the user manual's layout: ``features`` are ``(key, location, note,
  evidence)``, ``comments`` the text after ``CC   -!- `` (wrapped at 75 columns)."""
  import textwrap
  lines = [f"ID   {name:<24}Reviewed;{len(sequence):>11} AA.", f"AC   {accession};",
           "DT   01-JAN-2000, integrated into UniProtKB/Swiss-Prot.",
           "DT   01-JAN-2000, sequence version 1.", "DT   01-JAN-2024, entry version 1.",
           f"DE   RecName: Full=Protein {name};", "OS   Homo sapiens (Human).",
           f"OC   {lineage}.", "OX   NCBI_TaxID=9606;"]
  for comment in comments:
    wrapped = textwrap.wrap(comment, 75, initial_indent="-!- ", subsequent_indent="    ",
                            break_on_hyphens=False)
    lines += [f"CC   {line}" for line in wrapped]
  for key, location, note, evidence in features:
    lines.append(f"FT   {key:<16}{location}")
    if note:
      lines.append(f'FT                   /note="{note}"')
    if evidence:
      lines.append(f'FT                   /evidence="{evidence}"')
  lines.append(f"SQ   SEQUENCE {len(sequence):>5} AA;  {110 * len(sequence)} MW;  "
               "0123456789ABCDEF CRC64;")
  for start in range(0, len(sequence), 60):
    chunk = sequence[start:start + 60]
    lines.append("     " + " ".join(chunk[i:i + 10] for i in range(0, len(chunk), 10)))
  return "\n".join(lines + ["//"]) + "\n"
