"""Apache Beam builds of the big-data builders write the records of in-process builds.

``basenji_barnyard``, ``intervals``, ``bpnet_profiles`` and ``spliceai_gencode`` are each
built twice from their own tests' dummy files -- in this process and with Beam's
DirectRunner (`data_builders.sharded`) -- through the command a user runs
(``data_builders.build``, ``intervals.make``) or the builder itself, with shards small
enough that splits span several. Every record and the stored metadata (bpnet's read
depths are summed on the workers) must be equal. The in-process path is switched off
during Beam builds, so they cannot pass by not using Beam.
"""

import contextlib
import gzip
import shutil

import apache_beam  # noqa: F401  Without the beam extra this fails; it never skips.
import numpy as np

import test_basenji_barnyard as basenji_test
import test_bpnet_profiles as bpnet_test
from data_builders import basenji_barnyard as bb
from data_builders import bpnet_profiles as bp
from data_builders import build
from data_builders import sharded
from data_builders.intervals import make as intervals_make
from real_formats import write_genome_and_peaks
from test_bpnet_profiles import files as bpnet_files  # noqa: F401 (fixture)
from test_spliceai_gencode import inputs  # noqa: F401 (fixture)

DIRECT = "--runner=DirectRunner"


def _in_process(*args, **kwargs):
  raise AssertionError("built in this process although Beam options were given")


@contextlib.contextmanager
def beam_only(monkeypatch):
  """Fails a build that makes its examples in this process instead of with Beam."""
  with monkeypatch.context() as patch:
    patch.setattr(sharded.ShardedBuilder, "_examples", _in_process)
    yield


def _records(builder) -> dict[str, list]:
  source = builder.as_data_source()
  return {split: [source[split][i] for i in range(len(source[split]))] for split in source}


def _stored_metadata(builder) -> dict:
  """``info.metadata`` as read back from the built dataset's folder."""
  return dict(type(builder)(config=builder.builder_config, data_dir=builder.data_dir_root,
                            file_format="array_record").info.metadata)


def assert_same_records(plain, beam):
  records, beam_records = _records(plain), _records(beam)
  assert records.keys() == beam_records.keys()
  for split, rows in records.items():
    assert len(rows) == len(beam_records[split]) > 0, split
    for index, (row, beam_row) in enumerate(zip(rows, beam_records[split])):
      assert row.keys() == beam_row.keys()
      for key in row:
        np.testing.assert_array_equal(beam_row[key], row[key],
                                      err_msg=f"{split} record {index} {key}")
  assert _stored_metadata(beam) == _stored_metadata(plain)


def test_pipeline_options_parse_like_tfds_build():
  options = sharded.beam_pipeline_options(
      "runner=DirectRunner, --direct_num_workers=2").get_all_options()
  assert (options["runner"], options["direct_num_workers"]) == ("DirectRunner", 2)
  assert sharded.beam_pipeline_options("") is None
  config = sharded.download_config(manual_dir="/m")
  assert (config.beam_runner, config.beam_options, config.manual_dir) == (None, None, "/m")


def test_basenji_barnyard_counts_each_file_then_numbers_its_windows(tmp_path, monkeypatch):
  # Train spreads over three one-record files, test over two; a file's first window
  # comes from the counts of the files before it.
  manual_dir = tmp_path / "manual"
  basenji_test.write_layout(manual_dir)
  plain = basenji_test.build(manual_dir, tmp_path / "plain")
  beam = bb.BasenjiBarnyard(config=basenji_test.TINY, data_dir=str(tmp_path / "beam"),
                            file_format="array_record")
  with beam_only(monkeypatch):
    beam.download_and_prepare(download_config=sharded.download_config(
        beam_options=DIRECT, manual_dir=str(manual_dir)))
  assert_same_records(plain, beam)
  assert [row["chrom"] for row in _records(beam)["test"]] == [b"chr3", b"chr6", b"chr9"]


def test_intervals_make_with_beam_options(tmp_path, monkeypatch):
  _, beds = write_genome_and_peaks(tmp_path, np.random.default_rng(0),
                                   {"ctcf": 3, "dnase": 4})
  args = [f"--fasta={tmp_path / 'genome.fa'}", f"--bed={beds['ctcf']}",
          f"--bed={beds['dnase']}", "--window=200", "--valid=chr7", "--test=chr8,chr9",
          "--name=peaks", "--gc_bins=10"]
  plain = intervals_make.main([*args, f"--data_dir={tmp_path / 'plain'}"])
  with beam_only(monkeypatch):
    beam = intervals_make.main([*args, f"--data_dir={tmp_path / 'beam'}",
                                f"--beam_options={DIRECT}"])
  assert len(beam.info.metadata["splits"]["train"]["chromosomes"]) > 1  # Two shards.
  assert_same_records(plain, beam)


def _bpnet_build(config, data_dir, beam_options=None):
  builder = bp.BpnetProfiles(config=config, data_dir=str(data_dir),
                             file_format="array_record")
  builder.download_and_prepare(
      download_config=sharded.download_config(beam_options=beam_options))
  return builder


def test_bpnet_profiles_depth_statistics_from_the_workers(bpnet_files, tmp_path,
                                                          monkeypatch):
  monkeypatch.setattr("data_builders.bpnet_profiles.bpnet_profiles.WINDOWS_PER_SHARD", 2)
  config = bpnet_test._config(bpnet_files)  # pylint: disable=protected-access
  plain = _bpnet_build(config, tmp_path / "plain")
  with beam_only(monkeypatch):
    beam = _bpnet_build(config, tmp_path / "beam", DIRECT)
  assert beam.info.splits["train"].num_examples > 2  # Several shards.
  assert "suggested_count_weight" in beam.info.metadata
  assert_same_records(plain, beam)


def test_spliceai_gencode_build_command_with_beam_options(inputs, tmp_path, monkeypatch):
  root, _ = inputs
  manual_dir = tmp_path / "manual"
  manual_dir.mkdir()
  shutil.copy(root / "genome.fa", manual_dir / "genome.fa")
  with open(root / "annotation.gtf", "rb") as f, \
       gzip.open(manual_dir / "annotation.gtf.gz", "wb") as out:
    shutil.copyfileobj(f, out)
  monkeypatch.setattr("data_builders.spliceai_gencode.spliceai_gencode.GENES_PER_SHARD", 1)
  plain = build.build("spliceai_gencode/tiny", str(tmp_path / "plain"), str(manual_dir))
  with beam_only(monkeypatch):
    beam = build.build("spliceai_gencode/tiny", str(tmp_path / "beam"), str(manual_dir),
                       beam_options=DIRECT)
  genes = [{row["gene_id"] for row in rows} for rows in _records(beam).values()]
  assert sum(map(len, genes)) == 3  # Three genes, a shard each.
  assert_same_records(plain, beam)
