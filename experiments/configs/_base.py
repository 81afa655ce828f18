"""Fields every training config shares, so a config file holds only what is its own.

A config starts from `base_config` (data, model, task, optimizer, mesh, logging and
checkpoint fields with the framework's defaults), or from `coverage_config` for the
coverage-track configs, and overrides what its paper sets.
The leading underscore keeps this module out of the ``--config=<name>`` list.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import ml_collections

from experiments.configs import model_config

# Adam with warm-up and cosine decay: the embedded-data default of the CNN configs.
OPTIMIZER_DEFAULTS: dict[str, Any] = dict(
    name="adam", learning_rate=1e-3, schedule="cosine", warmup_steps=100,
    end_learning_rate_factor=0.01, clip_norm=1.0, weight_decay=0.0, momentum=0.9,
    nesterov=False, b1=0.9, b2=0.999, eps=1e-8, grad_accum_steps=1)

# LoRA's rank and alpha as Hu et al. (2021) used them for RoBERTa/DeBERTa (r = 8, alpha 16).
ADAPTER_DEFAULTS: dict[str, Any] = dict(
    kind="none", targets=(), input_targets=(), rank=8, alpha=16.0, dropout_rate=0.0,
    train=())


def base_config(*, dataset: str, model_name: str, model_preset: str,
                model: Mapping[str, Any] | ml_collections.ConfigDict, task_name: str,
                task: Mapping[str, Any], build_if_missing: bool = True,
                model_inputs: Sequence[str] = ("sequence",), batch_size: int = 64,
                eval_batch_size: int = 256, reverse_complement: bool = False,
                max_shift: int = 0, optimizer: Mapping[str, Any] | None = None,
                num_train_steps: int = 1500, log_every_steps: int = 50,
                eval_every_steps: int = 500, checkpoint_every_steps: int = 500,
                best_metric: str = "valid/auroc", best_mode: str = "max"
                ) -> ml_collections.ConfigDict:
  """A complete training config; keyword arguments are its non-default parts.

  Args:
    dataset: TFDS name (``"synthetic_motifs/default"``; ``{species}`` templates work).
    model_name: registry name of the model (``genereg_jax.models``).
    model_preset: preset of that model.
    model: model fields (e.g. from `experiments.configs.model_config`, whose typed
      ``None`` placeholders are kept).
    task_name: registry name of the task (``genereg_jax.tasks``).
    task: task fields.
    build_if_missing: build the dataset on first use (embedded data) or fail with the
      build command (real data).
    model_inputs: batch keys passed to the model.
    batch_size: global training batch.
    eval_batch_size: global evaluation batch.
    reverse_complement: reverse-complement augmentation.
    max_shift: random shift augmentation, in bp.
    optimizer: overrides of `OPTIMIZER_DEFAULTS`.
    num_train_steps: training steps.
    log_every_steps: steps between progress lines.
    eval_every_steps: steps between validation passes.
    checkpoint_every_steps: steps between checkpoints.
    best_metric: ``<split>/<metric>`` that picks the best checkpoint.
    best_mode: ``"max"`` or ``"min"`` for `best_metric`.

  Returns:
    The config, with every field the trainer reads.
  """
  config = ml_collections.ConfigDict()
  config.seed = 0

  config.dataset = ml_collections.ConfigDict(dict(
      name=dataset, data_dir=ml_collections.FieldReference(None, str),
      manual_dir=ml_collections.FieldReference(None, str),
      build_if_missing=build_if_missing))
  # "genome": examples read from a FASTA and bigWigs in the data workers instead of the
  # built dataset `name` (genereg_jax.data.genome_source; see `use_genome_source`).
  config.dataset.source = "tfds"
  config.dataset.genome = genome_source_fields(
      {"profile": "profile", "multilabel_binary": "labels"}.get(task_name, "coverage"))
  config.train_split = "train"
  config.eval_splits = ("valid",)
  config.final_eval_splits = ("test",)
  config.model_inputs = tuple(model_inputs)
  config.batch_size = batch_size
  config.eval_batch_size = eval_batch_size
  config.augment = ml_collections.ConfigDict(dict(
      reverse_complement=reverse_complement, max_shift=max_shift))
  config.data_workers = 0

  config.model_name = model_name
  config.model_preset = model_preset
  config.model = ml_collections.ConfigDict(model)
  config.compute_dtype = "float32"
  # Parameter-efficient fine-tuning of any model (genereg_jax.train.finetune): "lora" or
  # "ia3" adapts the Dense/Conv layers whose path matches `targets`; "none" trains as is.
  config.adapters = ml_collections.ConfigDict(ADAPTER_DEFAULTS)

  config.task_name = task_name
  config.task = ml_collections.ConfigDict(dict(task))

  config.optimizer = ml_collections.ConfigDict({**OPTIMIZER_DEFAULTS, **(optimizer or {})})
  config.num_train_steps = num_train_steps

  # Every device on "data" (data parallel) unless a config shards parameters too.
  config.mesh_shape = (-1, 1)
  config.logical_axis_rules = (("batch", "data"),)

  config.log_every_steps = log_every_steps
  config.log_every_seconds = 30.0  # A progress line at least this often, whatever the steps.
  config.eval_every_steps = eval_every_steps
  config.max_eval_batches = ml_collections.FieldReference(None, int)
  config.checkpoint_every_steps = checkpoint_every_steps
  config.keep_checkpoints = 3
  config.best_metric = best_metric
  config.best_mode = best_mode
  # Launch options, not part of what a run trains (a workdir compares every other field):
  # resume from this kept checkpoint instead of the newest (e.g. before a divergence),
  # and accept a config that differs from the one the workdir was trained with.
  config.restore_step = ml_collections.FieldReference(None, int)
  config.allow_config_change = False
  # Persistent XLA compilation cache (genereg_jax.train.compile_cache): None is
  # $XDG_CACHE_HOME/genereg_jax/xla, "" turns it off.
  config.compilation_cache_dir = ml_collections.FieldReference(None, str)
  return config


def use_tiny_synthetic_motifs(config: ml_collections.ConfigDict, learning_rate: float,
                              num_train_steps: int = 600,
                              eval_every_steps: int = 200) -> None:
  """The shared ``:tiny`` variant of the CNN configs: 200 bp data, tiny preset.

  Seconds to a minute on a CPU, for tests and a first look.
  """
  config.dataset.name = "synthetic_motifs/tiny"
  config.model_preset = "tiny"
  config.eval_batch_size = 128
  config.optimizer.update(learning_rate=learning_rate, warmup_steps=20,
                          end_learning_rate_factor=0.1)
  config.num_train_steps = num_train_steps
  config.eval_every_steps = eval_every_steps
  config.checkpoint_every_steps = eval_every_steps


def genome_source_fields(layout: str = "coverage") -> ml_collections.ConfigDict:
  """``dataset.genome``: the files and geometry of `genereg_jax.data.genome_source`.

  Unset fields take the source class's defaults (Basenji2's 131,072 bp / 128 bp bins /
  8,192 bp crop; bpnet-lite's 2,114 / 1,000 bp; 1,000 bp label windows). ``{species}``
  in a path is the head.
  """
  text = lambda: ml_collections.FieldReference(None, str)
  number = lambda: ml_collections.FieldReference(None, int)
  return ml_collections.ConfigDict(dict(
      layout=layout, fasta=text(), regions=text(), tile_stride=number(), gaps=text(),
      valid_chromosomes=(), test_chromosomes=(), exclude_chromosomes=(),
      # coverage: a targets.txt (or comma-separated bigWigs) and Basenji's geometry.
      targets=text(), blacklist=text(), seq_length=number(), pool_width=number(),
      crop_bp=number(), organism=text(), cache_dir=text(),
      # profile: "NAME:plus.bw,minus.bw" per task, control bigWigs, BPNet's geometry.
      tasks=(), control=(), input_length=number(), output_length=number(),
      max_jitter=number(),
      # labels: a label BED as regions, windows of `window` bp (intervals' columns mode).
      window=number(), max_n_fraction=ml_collections.FieldReference(None, float)))


def use_genome_source(config: ml_collections.ConfigDict, *, fasta: str, **fields) -> None:
  """Train on a FASTA + bigWigs read on the fly instead of a built dataset.

  ``fields`` set `genome_source_fields` (``regions=`` a BED or ``tile_stride=``;
  ``targets=`` for coverage, ``tasks=`` for profiles; geometry). The same from the
  command line: ``--config.dataset.source=genome --config.dataset.genome.fasta=hg38.fa
  --config.dataset.genome.targets=targets.txt --config.dataset.genome.regions=seqs.bed``.
  """
  config.dataset.source = "genome"
  config.dataset.build_if_missing = False
  config.dataset.genome.fasta = fasta
  for key, value in fields.items():
    if key not in config.dataset.genome:
      raise ValueError(f"unknown dataset.genome field {key!r}; fields: "
                       f"{sorted(config.dataset.genome)}")
    config.dataset.genome[key] = tuple(value) if isinstance(value, list) else value


def coverage_config(*, species: Sequence[str], **kwargs) -> ml_collections.ConfigDict:
  """A `base_config` for coverage tracks of one or more species (Basenji2, Enformer).

  The Basenji2/Enformer data (``basenji_barnyard/{species}``, built from real data
  only), one stream per species alternating step by step; reverse complement (with
  target reversal) and ±3 bp shifts; Poisson NLL, Pearson R per track averaged per
  species; output tracks on the "model" mesh axis. ``kwargs`` (model, optimizer,
  batches, steps) go to `base_config`.
  """
  config = base_config(
      dataset="basenji_barnyard/{species}", build_if_missing=False,
      reverse_complement=True, max_shift=3, task_name="coverage",
      task=dict(objective="poisson", log_pearson=False),
      best_metric="valid/human/pearsonr", **kwargs)
  config.species = tuple(species)
  config.logical_axis_rules = (("batch", "data"), ("tracks", "model"))
  return config


def use_synthetic_coverage(config: ml_collections.ConfigDict, dataset: str, *,
                           learning_rate: float, warmup_steps: int, num_train_steps: int,
                           eval_every_steps: int,
                           model: Mapping[str, Any] | None = None) -> None:
  """Train a `coverage_config` on the embedded ``synthetic_coverage`` data.

  ``dataset`` builds on first use; the model is the ``tiny`` preset of
  ``config.model_name`` updated with ``model``; batch 8, clipping 1.0.
  """
  config.dataset.name = dataset
  config.dataset.build_if_missing = True
  config.model_preset = "tiny"
  config.model = model_config(config.model_name, "tiny", **(model or {}))
  config.batch_size = 8
  config.eval_batch_size = 16
  config.optimizer.update(learning_rate=learning_rate, warmup_steps=warmup_steps,
                          clip_norm=1.0)
  config.num_train_steps = num_train_steps
  config.eval_every_steps = eval_every_steps
  config.checkpoint_every_steps = eval_every_steps


def use_full_eval(config: ml_collections.ConfigDict, log_every_steps: int,
                  eval_every_steps: int) -> None:
  """Uncapped evaluation every ``eval_every_steps`` (the small synthetic sets)."""
  config.log_every_steps = log_every_steps
  config.log_every_seconds = 30.0  # A progress line at least this often, whatever the steps.
  config.eval_every_steps = eval_every_steps
  config.checkpoint_every_steps = eval_every_steps
  config.max_eval_batches = None


def use_tiny_batches(config: ml_collections.ConfigDict, num_train_steps: int) -> None:
  """The splicing ``:tiny`` variants' batches, steps and evaluation (CPU minutes)."""
  config.batch_size = 64
  config.eval_batch_size = 128
  config.num_train_steps = num_train_steps
  use_full_eval(config, log_every_steps=50, eval_every_steps=200)


def use_manual_dataset(config: ml_collections.ConfigDict, name: str, *,
                       num_train_steps: int, every_steps: int) -> None:
  """Train on a real dataset built from downloaded files (``--manual_dir``), never built on use."""
  config.dataset.name = name
  config.dataset.build_if_missing = False
  config.num_train_steps = num_train_steps
  config.eval_every_steps = config.checkpoint_every_steps = every_steps


def use_deepsea_bundle(config: ml_collections.ConfigDict) -> None:
  """Train on the published DeepSEA ``.mat`` bundle: 919 labels named by the dataset.

  Build it first: ``python -m data_builders.build --dataset=deepsea --manual_dir=DIR``.
  """
  config.dataset.name = "deepsea"
  config.dataset.build_if_missing = False
  config.model.num_outputs = 919
  config.task.label_names = ()


def check_variant(config_name: str, variant: str, valid: Sequence[str]) -> None:
  """Raises a ValueError naming the valid variants when ``variant`` is not one."""
  if variant not in valid:
    raise ValueError(f"{config_name} config: unknown variant {variant!r}; valid: "
                     f"{', '.join(valid)}")


def learning_rate_sweep(*learning_rates: float) -> list[dict]:
  """One trial per learning rate (``get_sweep`` of most configs)."""
  return [{"optimizer.learning_rate": lr} for lr in learning_rates]
