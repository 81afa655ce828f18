"""cisTopic region-topic tables + sequences -> DeepMEL's multilabel topic data
(Minnoye et al., Genome Research 2020), from ``manual_dir``.

DeepMEL's labels are cisTopic (Bravo Gonzalez-Blas et al. 2019) topics binarised per
region: a region belongs to a topic when its topic contribution passes the topic's
threshold (pycisTopic ``binarize_topics``). Inputs:

* the region-topic table (``.tsv``/``.csv``, plain or gzipped): a header naming the
  topics (``Topic1 ... Topic24``) after the region column, one row per region
  ``chr:start-end`` (cisTopic's region names) with the topic's score or a 0/1 flag; a
  region is in a topic when its value is ``>= threshold`` (0.5 for 0/1 flags; the
  table's contributions may be binarised upstream or here with another ``threshold``);
* sequences: a genome FASTA (the regions are read from it, resized to ``length`` bp
  around their centre) or a FASTA of the regions themselves, named as the table's
  regions (centred and N-padded or trimmed to ``length``).

Splits by chromosome: ``valid_chromosomes`` and ``test_chromosomes`` (DeepMEL held out
regions by chromosome; chr2 test and chr8 valid here by default).
"""

from __future__ import annotations

import dataclasses
import os
import re

import numpy as np
import tensorflow_datasets as tfds

from data_builders.apa_usage import centred
from data_builders.apa_usage import read_site_sequences
from genereg_jax.data import encoding
from genereg_jax.data import genome as genome_lib
from genereg_jax.data import tables
from genereg_jax.files import InputFormatError

REGION = re.compile(r"^([^:]+):(\d+)-(\d+)$")


def read_topics(path: str, threshold: float) -> tuple[list[str], list[tuple[str, np.ndarray]]]:
  """``(topic names, [(region, int[topics] membership)])``."""
  topics, regions = None, []
  for line, row in tables.rows(path):
    names = list(row)
    if topics is None:
      topics = names[1:]  # The first column holds the regions (often pandas' index).
      if not topics:
        raise InputFormatError(path, line, "no topic columns after the region column")
    region = row[names[0]]
    if not REGION.match(region):
      raise InputFormatError(path, line, f"region {region!r} is not chr:start-end")
    values = np.array([tables.number(path, line, row, t) for t in topics])
    regions.append((region, (values >= threshold).astype(np.int32)))
  return topics or [], regions


@dataclasses.dataclass(eq=False)
class DeepMELTopicsConfig(tfds.core.BuilderConfig):
  """``length`` bp per region, ``num_topics`` topic columns, the membership
  ``threshold`` and held-out chromosomes."""
  length: int = 500
  num_topics: int = 24
  threshold: float = 0.5
  valid_chromosomes: tuple[str, ...] = ("chr8",)
  test_chromosomes: tuple[str, ...] = ("chr2",)


class DeepMELTopics(tfds.core.GeneratorBasedBuilder):
  """Regions and their binarised cisTopic topics (DeepMEL)."""

  name = "deepmel_topics"  # Not TFDS's spelling of the class, deep_mel_topics.

  VERSION = tfds.core.Version("1.0.0")
  RELEASE_NOTES = {"1.0.0": "First release."}
  MANUAL_DOWNLOAD_INSTRUCTIONS = __doc__
  BUILDER_CONFIGS = [DeepMELTopicsConfig(name="default", description="500-bp regions.")]

  def _inputs(self, manual_dir: str) -> tuple[str, str]:
    names = sorted(os.listdir(manual_dir))
    found = [f for f in names if f.endswith((".tsv", ".csv", ".tsv.gz", ".csv.gz", ".txt"))]
    fastas = [f for f in names if f.endswith((".fa", ".fasta", ".fa.gz", ".fasta.gz"))]
    if len(found) != 1 or len(fastas) != 1:
      raise FileNotFoundError(f"{manual_dir}: need one region-topic table and one FASTA; "
                              f"found {found} and {fastas}")
    return os.path.join(manual_dir, found[0]), os.path.join(manual_dir, fastas[0])

  def _info(self) -> tfds.core.DatasetInfo:
    c = self.builder_config
    return tfds.core.DatasetInfo(
        builder=self, description=__doc__, disable_shuffling=True,
        features=tfds.features.FeaturesDict({
            "sequence": tfds.features.Tensor(shape=(c.length, 4), dtype=np.uint8),
            "label": tfds.features.Tensor(shape=(c.num_topics,), dtype=np.int32),
            "region": tfds.features.Text()}),
        # label_names: the table's topic columns, filled in when it is read.
        metadata=tfds.core.MetadataDict(label_names=[], length=c.length))

  def _split_generators(self, dl_manager):
    c = self.builder_config
    table, fasta = self._inputs(os.fspath(dl_manager.manual_dir))
    topics, regions = read_topics(table, c.threshold)
    if len(topics) != c.num_topics:
      raise InputFormatError(table, 1, f"{len(topics)} topic columns; the config expects "
                                       f"{c.num_topics} (set num_topics)")
    self.info.metadata["label_names"] = list(topics)
    by_name = read_site_sequences(fasta)
    genome = None if all(r in by_name for r, _ in regions) else genome_lib.Genome(fasta)
    splits = {"train": [], "valid": [], "test": []}
    for region, label in regions:
      chrom, start, end = REGION.match(region).groups()
      if genome is None:
        sequence = centred(by_name[region], c.length)
      else:
        name = genome.chromosome(chrom)
        if name is None:
          raise InputFormatError(table, None, f"chromosome {chrom!r} of {region} is not in "
                                              f"the genome FASTA")
        middle = (int(start) + int(end)) // 2
        sequence = genome.fetch(name, middle - c.length // 2,
                                middle - c.length // 2 + c.length).upper()
      split = ("test" if chrom in c.test_chromosomes else
               "valid" if chrom in c.valid_chromosomes else "train")
      splits[split].append((region, {"sequence": encoding.one_hot_dna(centred(sequence, c.length)),
                                     "label": label, "region": region}))
    return {name: self._generate_examples(rows) for name, rows in splits.items() if rows}

  def _generate_examples(self, rows):
    yield from rows
