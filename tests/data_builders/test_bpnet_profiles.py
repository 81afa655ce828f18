"""``bpnet_profiles`` on a tiny genome written in the real formats.

A FASTA (soft-masked, with Ns, 60 bp lines), bigWigs written by pyBigWig
(minus strand negative, gaps, a chromosome missing from a header), a
narrowPeak and a BED file; every record is compared with direct pyfaidx /
pyBigWig reads.
"""

import gzip
import subprocess
import sys

import numpy as np
import pytest

pyBigWig = pytest.importorskip("pyBigWig")
pytest.importorskip("pyfaidx")

from conftest import REPO, subprocess_env  # pylint: disable=g-bad-import-order
from data_builders import bpnet_profiles as bp
from genereg_jax.data import encoding
from genereg_jax.data import pipeline

CHROMS = {"chr1": 3000, "chr2": 2400, "chr3": 2400, "chrX": 1500}
IN, OUT, JITTER = 200, 100, 10

NARROWPEAK = """track name=test description="tiny"
chr1\t400\t700\tp1\t0\t.\t5.0\t-1\t-1\t150
chr1\t1200\t1500\tp2\t0\t.\t5.0\t-1\t-1\t-1
chr1\t10\t200\tedge\t0\t.\t5.0\t-1\t-1\t40
chr2\t900\t1300\tp3\t0\t.\t5.0\t-1\t-1\t200
chr3\t1000\t1100\tp4\t0\t.\t5.0\t-1\t-1\t50
chrX\t700\t800\tpx\t0\t.\t5.0\t-1\t-1\t50
chrUn\t100\t200\tpu\t0\t.\t5.0\t-1\t-1\t50
chr1\t400\t700\tp1dup\t0\t.\t5.0\t-1\t-1\t150
"""
BED = "chr1\t2000\t2300\nchr2\t400\t600\tname\n"


def _write_fasta(path, rng):
  sequences = {}
  for chrom, size in CHROMS.items():
    bases = np.array(list("ACGT"))[rng.integers(0, 4, size)]
    if chrom == "chr1":
      bases[480:490] = "N"  # Inside p1's window.
      bases[1300:1340] = np.char.lower(bases[1300:1340])  # Soft-masked.
    sequences[chrom] = "".join(bases)
  with open(path, "w") as f:
    for chrom, sequence in sequences.items():
      f.write(f">{chrom} test\n")
      for i in range(0, len(sequence), 60):
        f.write(sequence[i:i + 60] + "\n")
  return {c: s.upper() for c, s in sequences.items()}


def _write_bigwig(path, rng, sign=1.0, skip=()):
  header = [(c, n) for c, n in CHROMS.items() if c not in skip]
  bw = pyBigWig.open(str(path), "w")
  bw.addHeader(header)
  for chrom, size in header:
    end = size if chrom != "chr1" else 2600  # chr1's end has no data.
    values = sign * rng.poisson(0.7, end).astype(np.float64)
    bw.addEntries(chrom, 0, values=values.tolist(), span=1, step=1)
  bw.close()
  return str(path)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
  root = tmp_path_factory.mktemp("raw")
  rng = np.random.default_rng(0)
  genome = _write_fasta(root / "genome.fa", rng)
  peaks = root / "peaks.narrowPeak.gz"
  with gzip.open(peaks, "wt") as f:
    f.write(NARROWPEAK)
  (root / "more.bed").write_text(BED)
  bigwigs = {
      "a_plus": _write_bigwig(root / "a.plus.bw", rng),
      "a_minus": _write_bigwig(root / "a.minus.bw", rng, sign=-1.0),
      "b_plus": _write_bigwig(root / "b.plus.bw", rng, skip=("chr3",)),
      "b_minus": _write_bigwig(root / "b.minus.bw", rng),
      "c": _write_bigwig(root / "c.bw", rng),
      "ctl_plus": _write_bigwig(root / "ctl.plus.bw", rng),
      "ctl_minus": _write_bigwig(root / "ctl.minus.bw", rng),
  }
  return {"root": root, "genome": genome, "fasta": str(root / "genome.fa"),
          "peaks": (str(peaks), str(root / "more.bed")), **bigwigs}


def _config(files, name="small", **overrides):
  fields = dict(
      name=name, fasta=files["fasta"], peaks=files["peaks"],
      tasks=(bp.TrackSet("A", (files["a_plus"], files["a_minus"])),
             bp.TrackSet("B", (files["b_plus"], files["b_minus"])),
             bp.TrackSet("C", (files["c"],))),
      control=(files["ctl_plus"], files["ctl_minus"]),
      input_length=IN, output_length=OUT, max_jitter=JITTER,
      valid_chroms=("chr2",), test_chroms=("chr3",), exclude_chroms=("chrX",),
      negative_ratio=1.0, gc_bins=10, seed=1)
  fields.update(overrides)
  return bp.BpnetProfilesConfig(**fields)


@pytest.fixture(scope="module")
def built(files, tmp_path_factory):
  data_dir = tmp_path_factory.mktemp("tfds")
  builder = bp.BpnetProfiles(config=_config(files), data_dir=str(data_dir),
                             file_format="array_record")
  builder.download_and_prepare()
  source = builder.as_data_source()
  records = {s: [source[s][i] for i in range(len(source[s]))] for s in bp.SPLITS}
  return builder, records, str(data_dir)


def _direct(files, path, chrom, start, end):
  bw = pyBigWig.open(path)
  if bw.chroms(chrom) is None:
    return np.zeros(end - start)
  return np.abs(np.nan_to_num(np.array(bw.values(chrom, start, end))))


def test_peak_windows_and_splits(built):
  builder, records, _ = built
  peaks = {s: sorted((r["chrom"].decode(), int(r["summit"])) for r in records[s]
                     if r["is_peak"]) for s in bp.SPLITS}
  assert peaks == {
      "train": [("chr1", 550), ("chr1", 1350), ("chr1", 2150)],
      "valid": [("chr2", 500), ("chr2", 1100)],
      "test": [("chr3", 1050)],
  }
  metadata = builder.info.metadata
  assert metadata["dropped_peaks"] == {"missing_chrom": 1, "off_chrom_end": 1,
                                       "duplicate": 1, "excluded_chrom": 1}
  assert metadata["track_names"] == ["A/plus", "A/minus", "B/plus", "B/minus",
                                     "C"]
  assert metadata["strand_pair"] == [1, 0, 3, 2, 4]
  assert metadata["control_strand_pair"] == [1, 0]


def test_every_window_equals_direct_reads(built, files):
  _, records, _ = built
  tracks = ["a_plus", "a_minus", "b_plus", "b_minus", "c"]
  for split in bp.SPLITS:
    for r in records[split]:
      chrom, summit = r["chrom"].decode(), int(r["summit"])
      seq_start = summit - IN // 2 - JITTER
      prof_start = summit - OUT // 2 - JITTER
      assert int(r["start"]) == seq_start
      text = files["genome"][chrom][seq_start:seq_start + IN + 2 * JITTER]
      np.testing.assert_array_equal(r["sequence"], encoding.one_hot_dna(text))
      expected = np.stack([_direct(files, files[t], chrom, prof_start,
                                   prof_start + OUT + 2 * JITTER)
                           for t in tracks], axis=-1)
      np.testing.assert_array_equal(r["profile"], expected)
      control = np.stack([_direct(files, files[t], chrom, seq_start,
                                  seq_start + IN + 2 * JITTER)
                          for t in ("ctl_plus", "ctl_minus")], axis=-1)
      np.testing.assert_array_equal(r["control"], control)
  p1 = next(r for r in records["train"] if int(r["summit"]) == 550)
  # N bases are all-zero rows; minus-strand reads were negative in the file.
  assert (p1["sequence"][480 - 440:490 - 440].sum(axis=1) == 0).all()
  assert p1["profile"][:, 1].sum() > 0 and (p1["profile"] >= 0).all()
  p4 = records["test"][0]
  assert p4["profile"][:, 2].sum() == 0  # b_plus has no chr3.
  assert p4["profile"][:, 3].sum() > 0


def test_gc_matched_background(built, files):
  _, records, _ = built
  for split, chroms in (("train", {"chr1"}), ("valid", {"chr2"}),
                        ("test", {"chr3"})):
    peaks = [r for r in records[split] if r["is_peak"]]
    background = [r for r in records[split] if not r["is_peak"]]
    assert len(background) == len(peaks)
    width = IN + 2 * JITTER
    peak_windows = [(r["chrom"], int(r["start"])) for r in peaks]
    for r in background:
      assert r["chrom"].decode() in chroms
      start = int(r["start"])
      assert start % width == 0  # Tiles.
      text = files["genome"][r["chrom"].decode()][start:start + width]
      assert set(text) <= set("ACGT")
      for chrom, peak_start in peak_windows:
        assert chrom != r["chrom"] or abs(peak_start - start) >= width


def test_background_follows_the_gc_of_peaks():
  # Chromosome of alternating AT-rich and GC-rich 100 bp blocks; peaks in
  # GC-rich blocks must get GC-rich background tiles.
  rng = np.random.default_rng(2)
  blocks = []
  for i in range(60):
    gc = 0.8 if i % 2 else 0.2
    p = [(1 - gc) / 2, gc / 2, gc / 2, (1 - gc) / 2]
    blocks.append("".join(np.array(list("ACGT"))[rng.choice(4, 100, p=p)]))
  fasta = {"chr1": "".join(blocks)}
  config = bp.BpnetProfilesConfig(
      name="gc", fasta="unused.fa", peaks=("unused.bed",),
      tasks=(bp.TrackSet("A", ("a.bw",)),), input_length=100,
      output_length=50, negative_ratio=2.0, gc_bins=10)
  peaks = [("chr1", 150, True), ("chr1", 2150, True), ("chr1", 4350, True)]
  chosen = bp.gc_matched_background(config, fasta, {"chr1": 6000}, peaks,
                                    peaks, "train", np.random.default_rng(0))
  assert len(chosen) == 6
  for chrom, centre, is_peak in chosen:
    assert not is_peak
    assert bp.gc_fraction(fasta[chrom][centre - 50:centre + 50]) > 0.6
    assert all(abs(centre - p) >= 100 for _, p, _ in peaks)


def test_crops_cut_the_published_geometry(built, files):
  builder, records, _ = built
  random_crop, centre_crop = bp.crop_transforms(builder.info.metadata)
  record = records["train"][0]
  centred = centre_crop.map(record)
  assert centred["sequence"].shape == (IN, 4)
  assert centred["profile"].shape == (OUT, 5)
  assert centred["control"].shape == (IN, 2)
  shifts = set()
  for seed in range(30):
    cropped = random_crop.random_map(record, np.random.default_rng(seed))
    shift = next(s for s in range(2 * JITTER + 1) if np.array_equal(
        cropped["sequence"], record["sequence"][s:s + IN]))
    shifts.add(shift)
    chrom, start = record["chrom"].decode(), int(record["start"]) + shift
    # The output stays centred in the cropped input.
    profile_start = start + (IN - OUT) // 2
    np.testing.assert_array_equal(
        cropped["profile"][:, 0],
        _direct(files, files["a_plus"], chrom, profile_start, profile_start + OUT))
    np.testing.assert_array_equal(cropped["control"], record["control"][shift:shift + IN])
  assert len(shifts) > 10 and max(shifts) <= 2 * JITTER


def test_read_back_from_files_with_metadata(built, files):
  _, records, data_dir = built
  builder = pipeline.load_builder("bpnet_profiles/small", data_dir)
  metadata = builder.info.metadata
  assert metadata["input_length"] == IN and metadata["max_jitter"] == JITTER
  centre = slice(JITTER, JITTER + OUT)
  totals = np.array([r["profile"][centre].sum(axis=0)
                     for r in records["train"] if r["is_peak"]])
  np.testing.assert_allclose(metadata["mean_total_counts_per_track"],
                             totals.mean(axis=0), atol=1e-3)
  weights = metadata["suggested_count_weight"]
  np.testing.assert_allclose(weights["bpnet_paper"], totals.mean() / 2, atol=1e-3)
  per_task = np.stack([totals[:, :2].sum(1), totals[:, 2:4].sum(1),
                       totals[:, 4]], axis=1)
  np.testing.assert_allclose(weights["chrombpnet"], np.median(per_task) / 10,
                             atol=1e-3)
  source = builder.as_data_source(split="valid")
  np.testing.assert_array_equal(source[0]["profile"], records["valid"][0]["profile"])
  # The trainer's hook: jitter crops for training, the centre crop for evaluation.
  keys = ("sequence", "profile")
  for train, expected_rows in ((True, None), (False, records["valid"][0]["profile"][centre])):
    transforms = pipeline.dataset_transforms("bpnet_profiles/small", metadata, train)
    batch = next(iter(pipeline.make_loader(source, batch_size=2, keys=keys, shuffle=False,
                                           transforms=transforms)))
    assert batch["sequence"].shape == (2, IN, 4) and batch["profile"].shape[1] == OUT
    if expected_rows is not None:
      np.testing.assert_array_equal(batch["profile"][0], expected_rows)


NARROW_OK = "# comment\nchr1\t0\t50\tok\t0\t.\t1\t-1\t-1\t10\n"


@pytest.mark.parametrize("text, message, line", [
    ("chr1\t0\t50\nchr1\t100\n", "needs chrom, start and end", 2),
    ("chr1\t0\t50\nchr1\tx\t200\n", "start and end must be integers", 2),
    ("chr1\t0\t50\nchr1\t300\t200\n", "need 0 <= start < end", 2),
    (NARROW_OK + "chr1\t100\t200\tn\t0\t.\t1\t-1\t-1\t100\n",
     "summit offset 100 lies outside", 3),
    (NARROW_OK + "chr1\t100\t200\tn\t0\t.\t1\t-1\t-1\tsummit\n",
     "column 10", 3),
])
def test_malformed_peak_lines_name_file_and_line(tmp_path, text, message, line):
  path = tmp_path / "bad.peaks"
  path.write_text(text)
  with pytest.raises(ValueError, match=message) as error:
    bp.read_peaks(str(path))
  assert str(error.value).startswith(f"{path}:{line}: ")


def test_narrowpeak_needs_ten_columns_throughout(tmp_path):
  path = tmp_path / "mixed.narrowPeak"
  path.write_text("chr1\t0\t50\tok\t0\t.\t1\t-1\t-1\t10\nchr1\t60\t90\n")
  with pytest.raises(ValueError, match=f"{path}:2: narrowPeak lines have 10"):
    bp.read_peaks(str(path))
  with pytest.raises(ValueError, match="NAME:plus.bw,minus.bw"):
    bp.parse_track_set("Oct4")
  with pytest.raises(ValueError, match="must be even"):
    bp.BpnetProfilesConfig(name="x", fasta="g.fa", peaks=("p",),
                           tasks=(bp.TrackSet("A", ("a.bw",)),),
                           input_length=201, output_length=100)


def test_make_command_builds_a_loadable_dataset(files, tmp_path):
  out = subprocess.run(
      [sys.executable, "-m", "data_builders.bpnet_profiles.make", "--name=cli",
       f"--fasta={files['fasta']}", f"--peaks={','.join(files['peaks'])}",
       f"--task=A:{files['a_plus']},{files['a_minus']}",
       f"--control={files['ctl_plus']},{files['ctl_minus']}",
       "--valid=chr2", "--test=chr3", "--input_length=120", "--output_length=60",
       f"--data_dir={tmp_path}"],
      cwd=REPO, env=subprocess_env(), capture_output=True, text=True, timeout=120)
  assert out.returncode == 0, out.stderr[-2000:]
  assert "train: 4 examples" in out.stdout  # chrX is not excluded here. and "test: 1 examples" in out.stdout
  assert "--config.dataset.name=bpnet_profiles/cli" in out.stdout
  source = pipeline.load_builder("bpnet_profiles/cli", str(tmp_path)).as_data_source(
      split="train")
  assert source[0]["sequence"].shape == (120, 4)
  assert source[0]["profile"].shape == (60, 2)
  assert source[0]["control"].shape == (120, 2)
