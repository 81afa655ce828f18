"""Streaming genome sources against the builders they replace, on real-format files.

A tiny FASTA (60 bp lines, N runs, soft-masked bases), bigWigs written by pyBigWig
(gaps without data, a minus strand stored negative), a pandas-style targets.txt and
region BEDs: `CoverageSource` must give the records ``basenji_barnyard`` builds from
TFRecords holding the same windows binned by hand as ``basenji_data_read.py`` does,
and `ProfileSource` the records ``bpnet_profiles`` builds from the same files.
"""

import json
import os
import pickle

import numpy as np
import pytest
import tensorflow_datasets as tfds

pyBigWig = pytest.importorskip("pyBigWig")
pytest.importorskip("pyfaidx")

from data_builders import basenji_barnyard as bb  # pylint: disable=g-bad-import-order
from data_builders import bpnet_profiles as bp
from genereg_jax import tasks
from genereg_jax.data import coverage_tracks
from genereg_jax.data import genome_source as gs
from genereg_jax.data import pipeline
from genereg_jax.data import tfrecord

CHROMS = {"chr1": 1500, "chr2": 900, "chr3": 900}
SEQ_LENGTH, CROP_BP, POOL = 128, 16, 8  # 96 bp of targets: 12 bins (>= 8: a baseline).
SPAN = SEQ_LENGTH - 2 * CROP_BP
TARGETS_TXT = (
    "\tidentifier\tfile\tclip\tclip_soft\tscale\tsum_stat\tstrand_pair\tdescription\n"
    "0\tCAGE+\tcage_plus.bw\t2.3\t2\t1.0\tsum_sqrt\t1\tCAGE plus\n"
    "1\tCAGE-\tcage_minus.bw\t2.3\t2\t1.0\tsum_sqrt\t0\tCAGE minus\n"
    "2\tDNASE\tdnase.bw\t3.5\t2\t0.5\tmean\t2\tDNase\n"
    "3\tCHIP\tchip.bw\t30\t24\t2\tsum\t3\tChIP\n")
# chrom, start, fold: the first region's sequence runs 16 bp off chr1's start.
REGIONS = [("chr1", 0, "train"), ("chr1", 300, "valid"), ("chr1", 700, "train"),
           ("chr2", 100, "test"), ("chr1", 1100, "train"), ("chr2", 500, "valid"),
           ("chr3", 200, "test"), ("chr3", 600, "train")]
BLACKLIST = "chr1\t760\t770\nchr3\t650\t700\n"


def _write_fasta(path, rng):
  genome = {}
  for chrom, size in CHROMS.items():
    bases = np.array(list("ACGT"))[rng.integers(0, 4, size)]
    bases[320:335] = "N"
    bases[40:70] = np.char.lower(bases[40:70])
    genome[chrom] = "".join(bases)
  with open(path, "w") as f:
    for chrom, text in genome.items():
      f.write(f">{chrom}\n" + "".join(text[i:i + 60] + "\n" for i in range(0, len(text), 60)))
  return genome


def _write_bigwig(path, rng, scale=1.0, gap=None):
  bw = pyBigWig.open(str(path), "w")
  bw.addHeader(list(CHROMS.items()))
  for chrom, size in CHROMS.items():
    values = scale * rng.poisson(1.5, size).astype(np.float64)
    parts = [(0, size)] if gap is None or chrom != "chr1" else [(0, gap[0]), (gap[1], size)]
    for start, end in parts:
      bw.addEntries(chrom, start, values=values[start:end].tolist(), span=1, step=1)
  bw.close()
  return str(path)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
  root = tmp_path_factory.mktemp("genome")
  rng = np.random.default_rng(0)
  genome = _write_fasta(root / "genome.fa", rng)
  _write_bigwig(root / "cage_plus.bw", rng)
  _write_bigwig(root / "cage_minus.bw", rng)
  _write_bigwig(root / "dnase.bw", rng, gap=(720, 760))  # No data: NaN -> baseline 0.
  _write_bigwig(root / "chip.bw", rng, scale=3.0)
  _write_bigwig(root / "minus_negative.bw", rng, scale=-1.0)
  (root / "targets.txt").write_text(TARGETS_TXT)
  (root / "blacklist.bed").write_text(BLACKLIST)
  (root / "sequences.bed").write_text(
      "".join(f"{c}\t{s}\t{s + SPAN}\t{fold}\n" for c, s, fold in REGIONS))
  return {"root": root, "genome": genome, "fasta": str(root / "genome.fa")}


def _one_hot(text):
  out = np.zeros((len(text), 4), np.uint8)
  for i, base in enumerate(text.upper()):
    if base in "ACGT":
      out[i, "ACGT".index(base)] = 1
  return out


def _hand_bins(path, chrom, start, clip, clip_soft, scale, sum_stat, blacklist):
  """basenji_data_read.py's steps for one track and region, written out."""
  bw = pyBigWig.open(path)
  cov = np.array(bw.values(chrom, start, start + SPAN), np.float64).astype(np.float16)
  baseline = np.nan_to_num(np.percentile(cov, 50))  # 12 bins >= 8.
  for b_chrom, b_start, b_end in blacklist:
    if b_chrom == chrom and b_start - 20 < start + SPAN and b_end + 20 > start:
      part = slice(max(b_start - 20 - start, 0), b_end + 20 - start)
      cov[part] = np.clip(cov[part], -baseline, baseline)
  cov[np.isnan(cov)] = baseline
  cov = scale * cov
  bins = cov.reshape(-1, POOL)
  bins = (bins.sum(axis=1, dtype="float32") if sum_stat.startswith("sum")
          else bins.mean(axis=1, dtype="float32"))
  if sum_stat.endswith("sqrt"):
    bins = -1 + np.sqrt(1 + bins)
  above = bins > clip_soft
  bins[above] = clip_soft - 1 + np.sqrt(bins[above] - clip_soft + 1)
  return np.clip(bins, -clip, clip).astype(np.float16)


def _coverage(files, split="train", **kwargs):
  return gs.CoverageSource(files["fasta"], split, targets=str(files["root"] / "targets.txt"),
                           regions=str(files["root"] / "sequences.bed"),
                           seq_length=SEQ_LENGTH, pool_width=POOL, crop_bp=CROP_BP,
                           blacklist=str(files["root"] / "blacklist.bed"),
                           organism="human", **kwargs)


def _assert_same_examples(source, built, split: str) -> None:
  """Every example of ``source`` equals the built split's, key, dtype and value."""
  for i in range(len(source)):
    mine, theirs = source[i], built[i]
    assert sorted(mine) == sorted(theirs)
    for key in theirs:
      assert np.asarray(mine[key]).dtype == np.asarray(theirs[key]).dtype, key
      np.testing.assert_array_equal(mine[key], theirs[key], err_msg=f"{split} {i} {key}")


def test_coverage_equals_basenji_barnyard_built_from_hand_binned_tfrecords(files, tmp_path):
  blacklist = [(c, int(s), int(e)) for c, s, e in (line.split("\t") for line in
                                                   BLACKLIST.splitlines())]
  table = coverage_tracks.read_targets(files["root"] / "targets.txt")
  manual = tmp_path / "manual" / "human"
  (manual / "tfrecords").mkdir(parents=True)
  statistics = {"num_targets": 4, "seq_length": SEQ_LENGTH, "pool_width": POOL,
                "crop_bp": CROP_BP, "target_length": SPAN // POOL}
  for split in bb.SPLITS:
    regions = [(c, s) for c, s, fold in REGIONS if fold == split]
    statistics[f"{split}_seqs"] = len(regions)
    with tfrecord.TFRecordWriter(manual / "tfrecords" / f"{split}-0.tfr", "ZLIB") as writer:
      for chrom, start in regions:
        text = files["genome"][chrom]
        padded = "N" * SEQ_LENGTH + text + "N" * SEQ_LENGTH  # basenji fetch_dna pads N.
        first = start - CROP_BP + SEQ_LENGTH
        target = np.stack([_hand_bins(str(files["root"] / table["file"][t]), chrom, start,
                                      table["clip"][t], table["clip_soft"][t],
                                      table["scale"][t], table["sum_stat"][t], blacklist)
                           for t in range(4)], axis=-1)
        writer.write(tfrecord.serialize_example({
            "sequence": _one_hot(padded[first:first + SEQ_LENGTH]).tobytes(),
            "target": target.tobytes()}))
  (manual / "statistics.json").write_text(json.dumps(statistics))
  (manual / "targets.txt").write_text(TARGETS_TXT)
  (manual / "sequences.bed").write_text((files["root"] / "sequences.bed").read_text())
  config = bb.BasenjiBarnyardConfig.from_statistics("tiny", manual / "statistics.json",
                                                    organism="human")
  builder = bb.BasenjiBarnyard(config=config, data_dir=str(tmp_path / "tfds"),
                               file_format="array_record")
  builder.download_and_prepare(
      download_config=tfds.download.DownloadConfig(manual_dir=str(tmp_path / "manual")))
  built = builder.as_data_source()
  for split in bb.SPLITS:
    source = _coverage(files, split)
    assert len(source) == len(built[split])
    _assert_same_examples(source, built[split], split)
  metadata = _coverage(files).metadata
  for key in ("track_names", "strand_pair", "targets", "organism"):
    assert metadata[key] == builder.info.metadata[key], key
  assert metadata["strand_pair"] == [1, 0, 2, 3]
  assert metadata["statistics"]["target_length"] == SPAN // POOL
  # The NaN gap and the blacklist reached the data (not a vacuous comparison).
  train = _coverage(files)
  assert train[1]["chrom"] == b"chr1" and int(train[1]["start"]) == 700
  assert np.isnan(np.array(pyBigWig.open(str(files["root"] / "dnase.bw")).values(
      "chr1", 700, 796))).any()


def test_basenji_binning_numbers():
  track = coverage_tracks.Track("t", "t.bw", clip=2.4, clip_soft=2.0, scale=0.5,
                                sum_stat="sum_sqrt")
  values = np.array([1.0] * 8 + [4.0] * 8, np.float16)
  # Sums 4 and 16 after scaling; sqrt(1 + x) - 1 = 1.236, 3.123; the second is soft
  # clipped above 2 to 1 + sqrt(3.123 - 1) = 2.457, then hard clipped to 2.4.
  np.testing.assert_allclose(coverage_tracks.basenji_bins(values, track, 8),
                             [np.sqrt(5) - 1, 2.4], rtol=1e-3)
  mean = coverage_tracks.Track("t", "t.bw", sum_stat="mean")
  np.testing.assert_array_equal(coverage_tracks.basenji_bins(values, mean, 8), [1, 4])
  # 8 bins: the baseline is the median (31.5); a blacklisted interval (as `Blacklist`
  # widens it) over positions 20..63 is clipped to it. A NaN makes the baseline 0.
  ramp = np.arange(64, dtype=np.float16)
  plain = coverage_tracks.Track("t", "t.bw")
  expected = np.minimum(ramp, np.where(np.arange(64) >= 20, 31.5, np.inf))
  np.testing.assert_array_equal(
      coverage_tracks.basenji_bins(ramp, plain, 8, np.array([[20, 64]]), start=0),
      expected.reshape(8, 8).sum(axis=1))
  ramp[3] = np.nan
  np.testing.assert_array_equal(
      coverage_tracks.basenji_bins(ramp, plain, 8, np.array([[1000, 1064]]), start=1000),
      np.zeros(8))
  # Missing data makes the baseline Basenji's integer 0: clipped negatives become +0.
  negative = -np.ones(64, np.float16)
  negative[0] = np.nan
  maximum = coverage_tracks.Track("t", "t.bw", sum_stat="max")
  clipped = coverage_tracks.basenji_bins(negative, maximum, 8, np.array([[0, 64]]))
  assert not np.signbit(clipped).any()
  peak = coverage_tracks.Track("t", "t.bw", sum_stat="peak")
  np.testing.assert_allclose(coverage_tracks.basenji_bins(np.full(8, 0.04, np.float16),
                                                          peak, 8), [0.4], rtol=1e-3)


def test_track_bins_of_a_stack_equal_each_track_alone():
  # Non-integer values (float32 sums that depend on the order of additions), NaN in
  # one track, a blacklist, and every sum_stat, scale and clip kind side by side.
  rng = np.random.default_rng(1)
  stats = list(coverage_tracks.SUM_STATS) + ["sum", "mean"]
  tracks = [coverage_tracks.Track(f"t{i}", "t.bw", clip=[None, 30.0, np.nan, 7.7][i % 4],
                                  clip_soft=[None, 3.3, 20.0][i % 3],
                                  scale=[1.0, 0.37, 2.5][i % 3], sum_stat=stat)
            for i, stat in enumerate(stats)]
  values = (rng.gamma(0.8, 2.0, (len(tracks), 96)) * rng.uniform(0.5, 3)
            * rng.choice([-1, 1], (len(tracks), 1))).astype(np.float16)
  values[2, 40:47] = np.nan
  bins = coverage_tracks.TrackBins(tracks, 8)
  for blacklisted in (np.zeros((0, 2), np.int64), np.array([[990, 1020], [1070, 1200]])):
    stacked = bins(values, blacklisted, start=1000)
    assert stacked.shape == (12, len(tracks)) and stacked.dtype == np.float16
    for t, track in enumerate(tracks):
      np.testing.assert_array_equal(
          stacked[:, t], coverage_tracks.basenji_bins(values[t], track, 8, blacklisted, 1000),
          err_msg=f"{track}, blacklist {blacklisted.tolist()}")
  assert np.isnan(values[2, 40:47]).all()  # The caller's array is untouched.


def test_per_base_cache_gives_the_same_examples(files, tmp_path):
  plain, cached = _coverage(files), _coverage(files, cache_dir=str(tmp_path / "bw"))
  assert repr(cached) == repr(plain)  # A resumed run may switch the cache on or off.
  for i in range(len(plain)):
    np.testing.assert_array_equal(cached[i]["target"], plain[i]["target"], err_msg=str(i))
  # 4 tracks x the 2 chromosomes the train split reads, each written once.
  assert len(list((tmp_path / "bw").iterdir())) == 8
  track = str(files["root"] / "dnase.bw")
  assert isinstance(cached.bigwig(track), coverage_tracks.PerBaseCache)
  assert np.isnan(cached.bigwig(track).values("chr1", 720, 760)).all()  # No data: NaN.


def test_large_region_tables_travel_to_workers_as_a_shared_file(tmp_path, monkeypatch):
  monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
  regions = gs.tile_regions({"chr1": 50_000, "chr2": 30_000}, "g.fa", "train", 100, 10)
  whole = len(pickle.dumps(regions))
  monkeypatch.setattr(gs, "SHARE_MIN_REGIONS", 1000)
  shared = pickle.dumps(regions)
  assert len(regions) == 7982 and whole > 32 * len(regions) and len(shared) < 1000
  copy = pickle.loads(shared)
  np.testing.assert_array_equal(copy.table, regions.table)
  assert not copy.table.flags.writeable  # Mapped read-only from the cache file.
  assert copy.chromosomes == ["chr1", "chr2"] and list(copy.centre[:2]) == [50, 60]
  files = list((tmp_path / "cache" / "genereg_jax" / "regions").iterdir())
  assert [f.name for f in files] == [os.path.basename(copy.path)]
  assert pickle.loads(pickle.dumps(copy)).path == copy.path  # Written once, then reused.


def test_profile_equals_bpnet_profiles_builder(files, tmp_path):
  root = files["root"]
  (root / "peaks.narrowPeak").write_text(
      "chr1\t400\t700\tp1\t0\t.\t5\t-1\t-1\t150\n"
      "chr1\t1000\t1200\tp2\t0\t.\t5\t-1\t-1\t-1\n"
      "chr2\t300\t500\tp3\t0\t.\t5\t-1\t-1\t20\n"
      "chr3\t500\t600\tp4\t0\t.\t5\t-1\t-1\t50\n"
      "chr1\t400\t700\tp1dup\t0\t.\t5\t-1\t-1\t150\n"  # A repeated summit: dropped.
      "chr1\t1470\t1490\tedge\t0\t.\t5\t-1\t-1\t10\n")  # Runs off chr1: dropped by both.
  stranded = f"A:{root / 'cage_plus.bw'},{root / 'minus_negative.bw'}"
  common = dict(input_length=100, output_length=50, max_jitter=4)
  config = bp.BpnetProfilesConfig(
      name="tiny", fasta=files["fasta"], peaks=(str(root / "peaks.narrowPeak"),),
      tasks=(bp.parse_track_set(stranded), bp.parse_track_set(f"B:{root / 'chip.bw'}")),
      control=(str(root / "dnase.bw"),), valid_chroms=("chr2",), test_chroms=("chr3",),
      **common)
  builder = bp.BpnetProfiles(config=config, data_dir=str(tmp_path), file_format="array_record")
  builder.download_and_prepare()
  built = builder.as_data_source()
  for split in bp.SPLITS:
    source = gs.ProfileSource(files["fasta"], split, tasks=(stranded, f"B:{root / 'chip.bw'}"),
                              control=(str(root / "dnase.bw"),),
                              regions=str(root / "peaks.narrowPeak"),
                              valid_chromosomes=("chr2",), test_chromosomes=("chr3",), **common)
    assert len(source) == len(built[split]) > 0
    _assert_same_examples(source, built[split], split)
    for key in ("track_names", "strand_pair", "tracks_per_task", "control_names",
                "control_strand_pair", "input_length", "output_length", "max_jitter",
                "output_offset"):
      assert source.metadata[key] == builder.info.metadata[key], key
  assert source.metadata["strand_pair"] == [1, 0, 2]
  assert gs.ProfileSource(files["fasta"], "train", tasks=(stranded,),
                          regions=str(root / "peaks.narrowPeak"), valid_chromosomes=("chr2",),
                          **common).off_chromosome_end == 1


def test_deterministic_resumable_and_picklable(files):
  task = tasks.get_task("coverage", {})
  source = _coverage(files)
  task.use_dataset_metadata(source.metadata)
  augmentation = pipeline.Augmentation(
      reverse_complement=True, max_shift=3,
      reverse_complement_targets=task.reverse_complement_targets)

  def loader(source):
    return iter(pipeline.make_loader(source, batch_size=2, keys=("sequence", "target"),
                                     seed=3, augmentation=augmentation, num_epochs=3))

  first = loader(source)
  head = [next(first) for _ in range(2)]
  state = first.get_state()
  tail = [next(first) for _ in range(3)]
  copy = pickle.loads(pickle.dumps(source))  # What a grain worker receives.
  resumed = loader(copy)
  resumed.set_state(state)
  for expected in tail:
    got = next(resumed)
    for key in expected:
      np.testing.assert_array_equal(got[key], expected[key])
  again = loader(_coverage(files))
  for expected in head:
    np.testing.assert_array_equal(next(again)["target"], expected["target"])


def test_tiling_skips_gaps_and_splits_by_chromosome(tmp_path):
  gaps = tmp_path / "gaps.bed"
  gaps.write_text("chr1\t100\t150\nchr1\t120\t300\n")
  regions = gs.tile_regions({"chr1": 500, "chr2": 260}, "g.fa", "train", 100, 60,
                            gaps=str(gaps), test=("chr2",))
  assert [(int(s), int(e)) for s, e in zip(regions.start, regions.end)] == [
      (0, 100), (300, 400), (360, 460)]
  test = gs.tile_regions({"chr1": 500, "chr2": 260}, "g.fa", "test", 100, 60, test=("chr2",))
  assert list(test.start) == [0, 60, 120] and set(test.chrom) == {1}


@pytest.mark.parametrize("line, message", [
    ("chr9\t0\t96\ttrain", r"sequences\.bed:2: chromosome 'chr9' is not in the FASTA"),
    ("chr2\t850\t946\ttrain", r"sequences\.bed:2: end 946 is past the end of chr2 \(900 bp"),
    ("chr2\t50\t10\ttrain", r"sequences\.bed:2: start/end '50', '10' are not integers"),
    ("chr2\t0\t96\tfold3", r"sequences\.bed:2: split column 'fold3' is not one of"),
])
def test_bad_regions_name_the_file_and_line(files, tmp_path, line, message):
  bed = tmp_path / "sequences.bed"
  bed.write_text(f"chr1\t0\t96\ttrain\n{line}\n")
  with pytest.raises(gs.RegionFormatError, match=message):
    gs.CoverageSource(files["fasta"], targets=str(files["root"] / "dnase.bw"), regions=str(bed),
                      seq_length=SEQ_LENGTH, pool_width=POOL, crop_bp=CROP_BP)


def test_trainer_reads_a_config_pointed_at_the_files(files):
  from experiments.configs import _base
  from experiments.configs import enformer_human_mouse
  from genereg_jax.train import trainer
  config = enformer_human_mouse.get_config("tiny")
  root = files["root"]
  _base.use_genome_source(config, fasta=files["fasta"], targets=str(root / "{species}.txt"),
                          regions=str(root / "sequences.bed"), seq_length=SEQ_LENGTH,
                          pool_width=POOL, crop_bp=CROP_BP)
  (root / "human.txt").write_text(TARGETS_TXT)
  source = trainer.load_split(config, "valid", "human")
  assert isinstance(source, gs.CoverageSource) and len(source) == 2
  assert source.metadata["track_names"] == ["CAGE+", "CAGE-", "DNASE", "CHIP"]
  assert source[0]["target"].shape == (SPAN // POOL, 4)
  config.dataset.genome.tasks = ("A:a.bw",)
  with pytest.raises(ValueError, match=r"fields \['tasks'\] do not apply to layout 'coverage'"):
    trainer.load_split(config, "valid", "human")


def test_labels_equal_intervals_builder_columns_mode(files, tmp_path):
  from data_builders import intervals as iv  # pylint: disable=g-import-not-at-top
  from data_builders.intervals import make  # pylint: disable=g-import-not-at-top
  bed = tmp_path / "labels.bed"
  bed.write_text("#chrom\tstart\tend\tK562\tHepG2\n"
                 "chr1\t400\t600\t1\t0\n"
                 "chr2\t100\t140\t0.5\tNA\n"
                 "chr1\t100\t160\t0\t1\n"
                 "chr1\t0\t20\t1\t1\n"        # The window would start at -40: dropped.
                 "chr2\t300\t340\t1\t1\n"     # 15% N in the window: dropped.
                 "chr3\t500\t600\t0\t0\n")
  held = dict(test_chromosomes=("chr2",), max_n_fraction=0.1)
  config = iv.IntervalsConfig(name="cols", fasta=files["fasta"], beds=(str(bed),),
                              label_columns=True, window=100, **held)
  built = make.build(config, str(tmp_path / "tfds")).as_data_source()
  for split in ("train", "test"):
    source = gs.LabelSource(files["fasta"], split, regions=str(bed), window=100, **held)
    assert len(source) == len(built[split]) > 0
    _assert_same_examples(source, built[split], split)
  assert [int(source[i]["start"]) for i in range(len(source))] == [70]
  assert source.metadata["label_names"] == ["K562", "HepG2"]
