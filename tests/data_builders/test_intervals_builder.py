"""Tests for the ``intervals`` builder on a tiny genome with N runs and BEDs.

The genome (``tests/real_formats.py``) alternates AT-rich (GC 0.3) and GC-rich
(GC 0.7) 500 bp blocks and peaks sit mostly in GC-rich blocks, so uniform
background would be AT-richer than the positives; the GC-matched negatives must
not be. Every record is checked against the FASTA and the BEDs by brute force.
"""

import numpy as np
import pytest

from data_builders import intervals as iv
from data_builders.intervals import make
from genereg_jax.data import encoding
from genereg_jax.data import pipeline
from real_formats import CHROM_SIZES
from real_formats import write_fasta
from real_formats import write_genome_and_peaks

WINDOW = 200
CENTER = 100
MIN_OVERLAP = 20


def _center(start, end, summit):
  return start + summit if summit >= 0 else (start + end) // 2


def _read_peaks(path):
  rows = []
  for line in open(path):
    f = line.split("\t")
    rows.append((f[0], int(f[1]), int(f[2]), int(f[9])))
  return rows


@pytest.fixture(scope="module")
def files(tmp_path_factory):
  root = tmp_path_factory.mktemp("intervals")
  rng = np.random.default_rng(0)
  genome, beds = write_genome_and_peaks(root, rng, {"ctcf": 6, "dnase": 8})
  # One peak runs off the end of chr9 once centred: its window must be dropped.
  with open(beds["dnase"], "a") as f:
    f.write("chr9\t3950\t4000\tedge\t0\t.\t5.0\t-1\t-1\t-1\n")
  return root, genome, beds


@pytest.fixture(scope="module")
def peaks_build(files):
  root, _, beds = files
  builder = make.main([
      f"--fasta={root / 'genome.fa'}", f"--bed={beds['ctcf']}",
      f"--bed={beds['dnase']}", f"--window={WINDOW}", "--valid=chr7",
      "--test=chr8,chr9", "--name=my_peaks", f"--data_dir={root / 'tfds'}",
      f"--label_center={CENTER}", f"--min_overlap={MIN_OVERLAP}",
      "--gc_bins=10"])
  source = builder.as_data_source()
  records = {split: [source[split][i] for i in range(len(source[split]))]
             for split in iv.SPLITS}
  return builder, records


def _covered(peaks, chrom, a, b):
  mask = np.zeros(CHROM_SIZES[chrom], dtype=bool)
  for c, start, end, _ in peaks:
    if c == chrom:
      mask[start:end] = True
  return int(mask[a:b].sum())


def test_windows_sequences_and_labels_match_the_inputs(files, peaks_build):
  _, genome, beds = files
  builder, records = peaks_build
  peaks = {name: _read_peaks(path) for name, path in beds.items()}
  centers = {(c, _center(s, e, m)) for rows in peaks.values()
             for c, s, e, m in rows}
  assert builder.info.metadata["label_names"] == ["ctcf", "dnase"]
  offset = (WINDOW - CENTER) // 2
  for split, rows in records.items():
    starts = [(r["chrom"].decode(), int(r["start"])) for r in rows]
    assert starts == sorted(starts, key=lambda x: (list(CHROM_SIZES).index(
        x[0]), x[1])), split
    for record in rows:
      chrom, start = record["chrom"].decode(), int(record["start"])
      assert 0 <= start and start + WINDOW <= CHROM_SIZES[chrom]
      text = genome[chrom][start:start + WINDOW]
      assert "N" not in text  # max_n_fraction defaults to 0.
      assert encoding.decode_dna(record["sequence"]) == text.upper()
      expected = [float(_covered(peaks[name], chrom, start + offset,
                                 start + offset + CENTER) >= MIN_OVERLAP)
                  for name in ("ctcf", "dnase")]
      np.testing.assert_array_equal(record["label"], expected)
      gc = sum(b in "GC" for b in text.upper()) / WINDOW
      assert record["gc"] == pytest.approx(gc, abs=1e-6)
      if record["label"].any():
        assert (chrom, start + WINDOW // 2) in centers
      else:
        # Background: overlaps no peak of any file anywhere in the window.
        assert all(_covered(p, chrom, start, start + WINDOW) == 0
                   for p in peaks.values())


def test_splits_are_by_chromosome(peaks_build):
  builder, records = peaks_build
  chroms = {split: {r["chrom"].decode() for r in rows}
            for split, rows in records.items()}
  assert chroms == {"train": {"chr1", "chr2"}, "valid": {"chr7"},
                    "test": {"chr8", "chr9"}}
  metadata = builder.info.metadata
  assert metadata["config"]["valid_chromosomes"] == ["chr7"]
  assert metadata["config"]["test_chromosomes"] == ["chr8", "chr9"]
  for split, rows in records.items():
    assert builder.info.splits[split].num_examples == len(rows)
    assert metadata["splits"][split]["windows"] == len(rows)
  # The chr9 edge peak's window would run off the chromosome.
  assert metadata["splits"]["test"]["dropped_off_chromosome"] == 1


def test_negatives_are_gc_matched_one_per_positive(peaks_build):
  builder, records = peaks_build
  all_rows = [r for rows in records.values() for r in rows]
  gc = np.array([r["gc"] for r in all_rows])
  background = np.array([not r["label"].any() for r in all_rows])
  positives = gc[~background]
  negatives = gc[background]
  assert positives.size >= 40
  assert negatives.size == positives.size  # negative_ratio 1, no shortfall.
  assert abs(negatives.mean() - positives.mean()) < 0.05
  # Peaks sit in GC-rich blocks, so matching is doing real work: uniform
  # background windows are far AT-richer than the positives.
  assert positives.mean() > 0.6
  for split, rows in records.items():
    stats = builder.info.metadata["splits"][split]
    assert stats["background_windows"] == sum(not r["label"].any()
                                              for r in rows)
    assert abs(stats["mean_gc_background"] - stats["mean_gc_positive"]) < 0.05
    assert stats["negatives_shortfall"] == 0


def test_uniform_background_would_not_be_gc_matched(files):
  root, _, _ = files
  genome = iv.Genome(root / "genome.fa")
  sequence = genome.sequence("chr1")
  starts = np.random.default_rng(0).integers(0, sequence.size - WINDOW, 500)
  gc, n_fraction = iv.window_composition(sequence, starts, WINDOW)
  assert gc[n_fraction == 0].mean() < 0.55


def test_dataset_loads_by_name_and_cli_prints_flags(files, peaks_build, capsys):
  root, _, _ = files
  builder, records = peaks_build
  reloaded = pipeline.load_builder("intervals/my_peaks", str(root / "tfds"))
  assert reloaded.info.metadata["label_names"] == ["ctcf", "dnase"]
  source = reloaded.as_data_source(split="valid")
  np.testing.assert_array_equal(source[0]["sequence"],
                                records["valid"][0]["sequence"])
  # A rebuild with the same config is deterministic.
  again = iv.plan_chromosome(
      builder.builder_config, "chr1",
      iv.Genome(root / "genome.fa").sequence("chr1"),
      [iv.read_bed(str(p), iv.Genome(root / "genome.fa").sizes, "g")
       for p in builder.builder_config.beds])
  train_chr1 = [int(r["start"]) for r in records["train"]
                if r["chrom"] == b"chr1"]
  assert again.starts.tolist() == train_chr1
  make.main([f"--fasta={root / 'genome.fa'}", f"--bed={files[2]['ctcf']}",
             "--window=100", "--valid=chr7", "--name=cli_check",
             f"--data_dir={root / 'tfds'}"])
  out = capsys.readouterr().out
  assert "intervals/cli_check" in out
  assert "--config.dataset.name=intervals/cli_check" in out
  assert "--config.model.num_outputs=1" in out


def test_label_columns_mode(tmp_path):
  genome = {"chr1": "ACGT" * 250, "chr2": "GGCC" * 100 + "N" * 100 + "AT" * 150}
  write_fasta(tmp_path / "g.fa", genome)
  (tmp_path / "labels.bed").write_text(
      "#chrom\tstart\tend\tK562\tHepG2\n"
      "chr1\t400\t600\t1\t0\n"
      "chr2\t100\t140\t0.5\tNA\n"
      "chr1\t100\t160\t0\t1\n"
      "chr1\t0\t20\t1\t1\n"          # Window would start at -40: dropped.
      "chr2\t440\t480\t1\t1\n")      # Window holds Ns: dropped.
  config = iv.IntervalsConfig(
      name="cols", fasta=str(tmp_path / "g.fa"),
      beds=(str(tmp_path / "labels.bed"),), label_columns=True, window=100,
      test_chromosomes=("chr2",))
  builder = make.build(config, str(tmp_path / "tfds"))
  assert builder.info.metadata["label_names"] == ["K562", "HepG2"]
  source = builder.as_data_source()
  train = [source["train"][i] for i in range(len(source["train"]))]
  test = [source["test"][i] for i in range(len(source["test"]))]
  # chr1 rows sorted by start; windows centred on the interval midpoints.
  assert [int(r["start"]) for r in train] == [80, 450]
  np.testing.assert_array_equal(train[0]["label"], [0, 1])
  np.testing.assert_array_equal(train[1]["label"], [1, 0])
  assert encoding.decode_dna(train[1]["sequence"]) == genome["chr1"][450:550]
  assert [int(r["start"]) for r in test] == [70]
  np.testing.assert_array_equal(test[0]["label"], [0.5, iv.MISSING_LABEL])
  stats = builder.info.metadata["splits"]
  assert stats["train"]["dropped_off_chromosome"] == 1
  assert stats["test"]["dropped_n_fraction"] == 1
  assert "valid" not in builder.info.splits


def _bed_error(tmp_path, content, label_columns=False):
  genome = iv.Genome(tmp_path / "g.fa")
  path = tmp_path / "bad.bed"
  path.write_text(content)
  with pytest.raises(iv.BedFormatError) as error:
    iv.read_bed(str(path), genome.sizes, genome.path, label_columns)
  return str(error.value)


@pytest.mark.parametrize("content, line, problem", [
    ("chr1\t1\t5\n# comment\n\nchr1\t7\n", 4, r"2 column\(s\); BED needs"),
    ("chr1\t1\t5\nchr1\tten\t20\n", 2, r"start 'ten' is not an integer"),
    ("chr1\t1\t5.5\n", 1, r"end '5.5' is not an integer"),
    ("track name=x\nchr1\t9\t5\n", 2, r"start 9 > end 5"),
    ("chr1\t-3\t5\n", 1, r"start -3 is negative"),
    ("chr1\t1\t5\nchr1\t1\t5\nchrZ\t1\t5\n", 3,
     r"chromosome 'chrZ' is not in the FASTA .*g\.fa \(it has chr1, chr2\)"),
    ("chr2\t1\t50\n", 1, r"end 50 is past the end of chr2 \(40 bp"),
])
def test_malformed_bed_lines_name_file_and_line(tmp_path, content, line,
                                                problem):
  write_fasta(tmp_path / "g.fa", {"chr1": "ACGT" * 20, "chr2": "AC" * 20})
  message = _bed_error(tmp_path, content)
  assert message.startswith(f"{tmp_path / 'bad.bed'}:{line}: ")
  assert __import__("re").search(problem, message), message


def test_malformed_label_and_peak_columns(tmp_path):
  write_fasta(tmp_path / "g.fa", {"chr1": "ACGT" * 20})
  message = _bed_error(tmp_path, "chr1\t1\t5\t1\nchr1\t1\t5\tyes\n",
                       label_columns=True)
  assert message.endswith(":2: label 'column_4' value 'yes' is not a number")
  message = _bed_error(tmp_path, "chr1\t1\t5\t1\t0\nchr1\t1\t5\t1\n",
                       label_columns=True)
  assert ":2: 4 columns, expected 5" in message
  message = _bed_error(tmp_path, "chr1\t1\t5\n", label_columns=True)
  assert ":1: 3 columns; a label BED needs" in message
  genome = iv.Genome(tmp_path / "g.fa")
  peak = tmp_path / "x.narrowPeak"
  peak.write_text("chr1\t10\t20\tp\t0\t.\t1\t-1\t-1\t15\n")
  with pytest.raises(iv.BedFormatError,
                     match=r"x\.narrowPeak:1: summit offset 15 is outside"):
    iv.read_bed(str(peak), genome.sizes, genome.path)


def test_malformed_fasta_is_named(tmp_path):
  ragged = tmp_path / "ragged.fa"
  ragged.write_text(">chr1\nACGTACGT\nACG\nACGTACGT\n")
  with pytest.raises(iv.FastaFormatError,
                     match=r"ragged\.fa:3: the line lengths of record 'chr1' are uneven"):
    iv.Genome(ragged)
  headerless = tmp_path / "headerless.fa"
  headerless.write_text("ACGT\nACGT\n")
  with pytest.raises(iv.FastaFormatError, match=r"headerless\.fa:1: sequence before"):
    iv.Genome(headerless)
  letters = tmp_path / "letters.fa"
  letters.write_text(">chr1\nACGT\nAC1T\n")
  with pytest.raises(iv.FastaFormatError,
                     match=r"letters\.fa:3: invalid character '1' at column 3"):
    iv.Genome(letters)
  with pytest.raises(iv.FastaFormatError, match=r"missing\.fa: FASTA file not found"):
    iv.Genome(tmp_path / "missing.fa")


def test_config_and_split_errors(tmp_path):
  write_fasta(tmp_path / "g.fa", {"chr1": "ACGT" * 100, "chr2": "ACGT" * 100})
  (tmp_path / "a.bed").write_text("chr1\t100\t150\n")
  with pytest.raises(ValueError, match="label_columns takes exactly one BED"):
    iv.IntervalsConfig(name="x", fasta="g.fa", beds=("a.bed", "b.bed"),
                       label_columns=True)
  with pytest.raises(ValueError, match=r"\['chr2'\] are in both valid and test"):
    iv.IntervalsConfig(name="x", fasta="g.fa", beds=("a.bed",),
                       valid_chromosomes=("chr2",), test_chromosomes=("chr2",))
  with pytest.raises(ValueError, match="name 'a/b' must be"):
    iv.IntervalsConfig(name="a/b", fasta="g.fa", beds=("a.bed",))
  config = iv.IntervalsConfig(name="x", fasta=str(tmp_path / "g.fa"),
                              beds=(str(tmp_path / "a.bed"),), window=50,
                              valid_chromosomes=("chr3",))
  with pytest.raises(ValueError, match="held-out chromosome 'chr3' is not in"):
    make.build(config, str(tmp_path / "tfds"))
  config = iv.IntervalsConfig(name="y", fasta=str(tmp_path / "g.fa"),
                              beds=(str(tmp_path / "a.bed"),), window=50,
                              valid_chromosomes=("chr2",))
  with pytest.raises(ValueError, match=r"split 'valid' \(chr2\) has no windows"):
    make.build(config, str(tmp_path / "tfds"))
  with pytest.raises(SystemExit):
    make.main(["--fasta=g.fa", "--bed=a.bed", "--window=0", "--name=z"])


def test_coverage_and_composition_against_brute_force():
  rng = np.random.default_rng(7)
  starts = rng.integers(0, 900, 40)
  ends = starts + rng.integers(0, 80, 40)
  mask = np.zeros(1000, dtype=bool)
  for s, e in zip(starts, ends):
    mask[s:e] = True
  coverage = iv.Coverage(starts, ends)
  assert np.all(coverage.starts[1:] > coverage.ends[:-1])  # Disjoint runs.
  a = rng.integers(0, 1000, 200)
  b = np.minimum(a + rng.integers(0, 200, 200), 1000)
  np.testing.assert_array_equal(coverage.covered(a, b),
                                [mask[x:y].sum() for x, y in zip(a, b)])
  sequence = np.frombuffer(b"ggccNNatGCRy", dtype=np.uint8)
  gc, n_fraction = iv.window_composition(sequence, np.array([0, 4, 8]), 4)
  np.testing.assert_allclose(gc, [1.0, 0.0, 1.0])
  np.testing.assert_allclose(n_fraction, [0.0, 0.5, 0.5])
