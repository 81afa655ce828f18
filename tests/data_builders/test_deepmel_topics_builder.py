"""``deepmel_topics`` on a cisTopic region-topic table (pandas-written, regions as the
index, Topic1..TopicK) with a genome FASTA or a FASTA of the regions: thresholds,
centred windows and chromosome splits."""

import numpy as np
import pytest
import tensorflow_datasets as tfds

from data_builders import deepmel_topics as dt
from genereg_jax.data import encoding
from genereg_jax.files import InputFormatError


def _build(tmp_path, manual, **config):
  builder = dt.DeepMELTopics(config=dt.DeepMELTopicsConfig(name="small", length=20,
                                                           num_topics=3, **config),
                             data_dir=str(tmp_path / "tfds"))
  builder.download_and_prepare(download_config=tfds.download.DownloadConfig(
      manual_dir=str(manual)), file_format="array_record")
  return builder


@pytest.mark.parametrize("genome", [True, False])
def test_builds_topics_from_a_genome_or_region_fasta(tmp_path, genome):
  rng = np.random.default_rng(0)
  chroms = {c: "".join(rng.choice(list("ACGT"), 300)) for c in ("chr1", "chr2", "chr8")}
  regions = [("chr1:100-140", "0.9\t0.1\t0.6"), ("chr1:200-230", "0\t1\t0"),
             ("chr2:50-90", "1\t1\t1"), ("chr8:10-50", "0.2\t0.7\t0.4")]
  manual = tmp_path / "manual"
  manual.mkdir()
  (manual / "region_topic.tsv").write_text(
      "\tTopic1\tTopic2\tTopic3\n" + "".join(f"{r}\t{v}\n" for r, v in regions))
  middles = {r: (r.split(":")[0], sum(map(int, r.split(":")[1].split("-"))) // 2)
             for r, _ in regions}
  windows = {r: chroms[c][m - 10:m + 10] for r, (c, m) in middles.items()}
  if genome:
    (manual / "hg38.fa").write_text("".join(f">{c}\n{s}\n" for c, s in chroms.items()))
  else:  # Region sequences of 40 bp: centred and trimmed to 20.
    (manual / "regions.fa").write_text("".join(
        f">{r}\n{chroms[c][m - 20:m + 20]}\n" for r, (c, m) in middles.items()))
  builder = _build(tmp_path, manual)
  assert builder.info.metadata["label_names"] == ["Topic1", "Topic2", "Topic3"]
  records = {r["region"].decode(): (s, r) for s in builder.info.splits
             for r in builder.as_data_source(split=s)}
  split, record = records["chr1:100-140"]
  assert split == "train" and record["label"].tolist() == [1, 0, 1]
  assert encoding.decode_dna(record["sequence"]) == windows["chr1:100-140"]
  assert records["chr2:50-90"][0] == "test" and records["chr8:10-50"][0] == "valid"
  assert records["chr8:10-50"][1]["label"].tolist() == [0, 1, 0]


def test_errors(tmp_path):
  bad = tmp_path / "t.tsv"
  bad.write_text("\tTopic1\nchr1_100_140\t1\n")
  with pytest.raises(InputFormatError, match="t.tsv:2: region"):
    dt.read_topics(str(bad), 0.5)
  manual = tmp_path / "manual"
  manual.mkdir()
  (manual / "t.tsv").write_text("\tTopic1\tTopic2\nchr1:1-10\t1\t0\n")
  (manual / "g.fa").write_text(">chr1\n" + "A" * 50 + "\n")
  with pytest.raises(InputFormatError, match="2 topic columns; the config expects 3"):
    _build(tmp_path, manual)
