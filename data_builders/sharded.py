"""Writing a split shard by shard: in this process, or with Apache Beam on many machines.

TFDS writes a split from a Python generator of ``(key, example)`` pairs or, when
``download_and_prepare`` is given a ``beam_runner`` or ``beam_options``, from an Apache
Beam ``PTransform`` that a runner spreads over workers (Dataflow, Spark, Flink, or the
DirectRunner's processes; TFDS's "Generating big datasets with Apache Beam" guide). The
builders that read large inputs (``basenji_barnyard``, ``intervals``, ``bpnet_profiles``,
``spliceai_gencode``) derive from `ShardedBuilder` and describe a split as a list of
shards -- a TFRecord file, a chromosome, a run of windows or of genes -- and one function
``generate(shard, first_key)`` that yields the shard's examples in order.
`ShardedBuilder.split_examples` runs that function over the shards one after another
here, or maps it over them on Beam's workers. Either way example ``i`` of shard ``s``
gets the global key ``first_key(s) + i``, and the builders set ``disable_shuffling`` so
TFDS writes records in key order: both builds hold the same records in the same order.

A shard's size is either known when the split is planned (windows, genes) or only by
reading it (a compressed TFRecord file). In the second case the Beam build reads every
shard once to count its examples before generating, so that each worker knows its
shard's first key; the in-process build counts as it goes.

Metadata computed from the examples themselves (``bpnet_profiles``' read depths) is a
`Summary`: values extracted where each example is made, combined once in key order.

Beam is optional and imported only by Beam builds: ``pip install 'genereg-jax[beam]'``,
then ``pip install --no-deps apache-beam==2.77.0`` (BUILD.md "Big builds" says why).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from etils import epath
import tensorflow_datasets as tfds

# Help of the --beam_runner / --beam_options flags of the build commands.
RUNNER_HELP = ("Build with Apache Beam on this runner (DirectRunner, DataflowRunner, "
               "SparkRunner, FlinkRunner ...); BUILD.md 'Big builds'.")
OPTIONS_HELP = ("Build with Apache Beam: comma-separated pipeline options, e.g. "
                "--beam_options=--runner=DirectRunner,--direct_num_workers=2.")

Example = dict[str, Any]
# generate(shard, first_key): the shard's examples in order; first_key is the global
# index of its first one (a builder may need it, e.g. to look up window coordinates).
Generate = Callable[[Any, int], Iterator[Example]]


def import_beam():
  """``apache_beam``, or an ImportError saying how to install it."""
  try:
    import apache_beam as beam  # pylint: disable=g-import-not-at-top  # Beam builds only.
  except ImportError as e:
    raise ImportError("building with Apache Beam needs it installed: pip install "
                      "'genereg-jax[beam]' && pip install --no-deps apache-beam==2.77.0 "
                      "(BUILD.md 'Big builds')") from e
  return beam


def beam_pipeline_options(options: str | Sequence[str] | None):
  """Beam ``PipelineOptions`` from ``"--runner=DirectRunner,--direct_num_workers=2"``.

  Comma-separated like ``tfds build --beam_pipeline_options`` (whose ``runner=...``
  form, without the dashes, is accepted too); a value cannot contain a comma. None or
  empty gives None (no Beam).
  """
  if not options:
    return None
  if isinstance(options, str):
    options = options.split(",")
  flags = [o if o.startswith("--") else f"--{o}" for o in (o.strip() for o in options) if o]
  return import_beam().options.pipeline_options.PipelineOptions(flags)


def download_config(beam_runner: str | None = None,
                    beam_options: str | Sequence[str] | None = None,
                    **kwargs) -> tfds.download.DownloadConfig:
  """A TFDS ``DownloadConfig`` that builds with Beam when a runner or options are given.

  Args:
    beam_runner: a runner name (``DirectRunner``, ``DataflowRunner``, ``SparkRunner``,
      ``FlinkRunner`` ...); may also be given in ``beam_options`` as ``--runner``.
    beam_options: pipeline options, see `beam_pipeline_options`.
    **kwargs: other ``DownloadConfig`` fields (``manual_dir`` ...).
  """
  return tfds.download.DownloadConfig(beam_runner=beam_runner or None,
                                      beam_options=beam_pipeline_options(beam_options),
                                      **kwargs)


@dataclasses.dataclass(frozen=True)
class Summary:
  """Metadata computed from a split's examples.

  Attributes:
    extract: ``example -> value``, or None to skip the example; runs where the example
      is made (a Beam worker), so only the values travel.
    finish: ``[value, ...] in key order -> dict`` (JSON-ready), merged into
      ``info.metadata``.
  """

  extract: Callable[[Example], Any]
  finish: Callable[[list], dict[str, Any]]


def _shard_plan(sizes: Sequence[tuple[int, int]],
                check_total: Callable[[int], None] | None) -> dict[int, tuple[int, int]]:
  """``{shard: (first_key, size)}`` from ``(shard, size)`` pairs in any order."""
  plan, first = {}, 0
  for index, size in sorted(sizes):
    plan[index] = (first, size)
    first += size
  if check_total is not None:
    check_total(first)
  return plan


def _shard_examples(indexed_shard: tuple[int, Any], generate: Generate,
                    plan: dict[int, tuple[int, int | None]]
                    ) -> Iterator[tuple[int, Example]]:
  """The keyed examples of one shard; its size, when planned, is checked."""
  index, shard = indexed_shard
  first, size = plan[index]
  count = 0
  for example in generate(shard, first):
    yield first + count, example
    count += 1
  if size is not None and count != size:
    # A planned size that the shard does not meet would leave gaps or repeat keys.
    raise RuntimeError(f"shard {index} ({shard!r:.200}) gave {count} examples, "
                       f"{size} were planned")


def _count_shard(indexed_shard: tuple[int, Any], count: Callable[[Any], int]
                 ) -> tuple[int, int]:
  return indexed_shard[0], count(indexed_shard[1])


def _extract(key_example: tuple[int, Example], extract: Callable[[Example], Any]
             ) -> list[tuple[int, Any]]:
  value = extract(key_example[1])
  return [] if value is None else [(key_example[0], value)]


def _write_summary(keyed_values: list[tuple[int, Any]], finish: Callable[[list], dict],
                   path: str) -> None:
  values = [value for _, value in sorted(keyed_values, key=lambda pair: pair[0])]
  epath.Path(path).write_text(json.dumps(finish(values)))


class ShardedBuilder(tfds.core.GeneratorBasedBuilder, skip_registration=True):
  """A ``GeneratorBasedBuilder`` whose splits are shards, built here or with Beam.

  Subclasses return ``self.split_examples(...)`` from ``_generate_examples``.
  """

  _use_beam = False

  def _download_and_prepare(self, dl_manager, download_config):
    # TFDS picks Beam or not from what _generate_examples returns; only here does a
    # builder see whether the caller asked for Beam.
    self._use_beam = bool(download_config.beam_runner or download_config.beam_options)
    self._summary_paths: list[epath.Path] = []
    super()._download_and_prepare(dl_manager=dl_manager, download_config=download_config)
    # The Beam pipeline has run: collect what its workers summarised.
    for path in self._summary_paths:
      self.info.metadata.update(json.loads(path.read_text()))
      path.unlink()

  def split_examples(self, shards: Sequence[Any], generate: Generate,
                     sizes: Sequence[int] | Callable[[Any], int], *,
                     check_total: Callable[[int], None] | None = None,
                     summary: Summary | None = None):
    """A split's ``(key, example)`` generator, or its Beam ``PTransform``.

    Args:
      shards: picklable descriptions of the pieces of the split, in order.
      generate: ``(shard, first_key) -> examples``; module-level (or a
        ``functools.partial`` of one) so Beam can ship it to workers.
      sizes: each shard's number of examples, or ``shard -> number`` to count them by
        reading the shard (Beam builds only; in-process builds count as they go).
      check_total: called with the split's number of examples; raises if it is wrong.
      summary: metadata to compute from the examples.
    """
    shards = list(shards)
    if self._use_beam:
      return self._beam_examples(shards, generate, sizes, check_total, summary)
    return self._examples(shards, generate, sizes, check_total, summary)

  def _examples(self, shards, generate, sizes, check_total, summary):
    plan = None if callable(sizes) else _shard_plan(list(enumerate(sizes)), None)
    total, values = 0, []
    for index, shard in enumerate(shards):
      for key, example in _shard_examples((index, shard), generate,
                                          plan or {index: (total, None)}):
        if summary is not None:
          values += [value for _, value in _extract((key, example), summary.extract)]
        yield key, example
        total += 1
    if check_total is not None:
      check_total(total)
    if summary is not None:
      self.info.metadata.update(summary.finish(values))

  def _beam_examples(self, shards, generate, sizes, check_total, summary):
    beam = import_beam()
    indexed = list(enumerate(shards))
    plan = None if callable(sizes) else _shard_plan(list(enumerate(sizes)), check_total)
    summary_path = None
    if summary is not None:
      # In the dataset's (still temporary) folder, which the workers can reach.
      summary_path = epath.Path(self.data_dir) / f"_summary-{len(self._summary_paths)}.json"
      self._summary_paths.append(summary_path)

    @beam.ptransform_fn
    def expand(root):
      # Reshuffle spreads the shards over the workers instead of fusing them to one.
      spread = root | "Shards" >> beam.Create(indexed) | "Spread" >> beam.Reshuffle()
      if plan is not None:
        shard_plan = plan
      else:
        shard_plan = beam.pvalue.AsSingleton(
            spread
            | "Count" >> beam.Map(_count_shard, sizes)
            | "Counts" >> beam.combiners.ToList()
            | "Plan" >> beam.Map(_shard_plan, check_total))
      examples = spread | "Generate" >> beam.FlatMap(_shard_examples, generate, shard_plan)
      if summary is not None:
        _ = (examples
             | "Extract" >> beam.FlatMap(_extract, summary.extract)
             | "Collect" >> beam.combiners.ToList()
             | "Summarise" >> beam.Map(_write_summary, summary.finish, str(summary_path)))
      return examples

    return expand()  # pylint: disable=no-value-for-parameter
