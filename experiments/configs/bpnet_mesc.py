r"""BPNet on mESC ChIP-nexus of Oct4, Sox2, Nanog and Klf4 (Avsec et al., Nat Genet 2021).

Build the dataset once from the paper's files (GEO GSE137193; the BPNet
authors' data directory, http://mitra.stanford.edu/kundaje/avsec/chipnexus/
paper/data/, has per-factor ``chip-nexus/<TF>/counts.{pos,neg}.bw`` and
``idr-optimal-set.summit.bed.gz``, the PATCH-CAP control
``chip-nexus/patchcap/counts.{pos,neg}.bw`` and mm10), then train:

  D=/data/bpnet; N=$D/chip-nexus
  python -m data_builders.bpnet_profiles.make --name=mesc --data_dir=/data/tfds \
      --fasta=$D/mm10_no_alt_analysis_set_ENCODE.fasta \
      --peaks=$N/Oct4/idr-optimal-set.summit.bed.gz,$N/Sox2/idr-optimal-set.summit.bed.gz,$N/Nanog/idr-optimal-set.summit.bed.gz,$N/Klf4/idr-optimal-set.summit.bed.gz \
      --task=Oct4:$N/Oct4/counts.pos.bw,$N/Oct4/counts.neg.bw \
      --task=Sox2:$N/Sox2/counts.pos.bw,$N/Sox2/counts.neg.bw \
      --task=Nanog:$N/Nanog/counts.pos.bw,$N/Nanog/counts.neg.bw \
      --task=Klf4:$N/Klf4/counts.pos.bw,$N/Klf4/counts.neg.bw \
      --control=$N/patchcap/counts.pos.bw,$N/patchcap/counts.neg.bw \
      --valid=chr2,chr3,chr4 --test=chr1,chr8,chr9 --exclude=chrX,chrY \
      --input_length=1000 --output_length=1000
  python -m experiments.train --config=bpnet_mesc --workdir=/tmp/bpnet_mesc \
      --config.dataset.data_dir=/data/tfds

The default is the paper's setup (bpnet9.gin of kundajelab/bpnet): 1 kb in
and out ('same' padding), 64 filters, first conv 25, nine dilated layers,
profile kernel 25, a multinomial per strand and a log-count MSE per strand
with lambda = 10, Adam at 4e-3, batch 128, chromosome hold-out as above,
early stopping on validation loss (here: best checkpoint by ``valid/loss``).
``:lite`` is bpnet-lite's geometry (2,114 bp in, 1,000 out, eight
layers, profile kernel 75): build it with ``--name=mesc_lite
--input_length=2114`` (and optionally ``--max_jitter=128``; see
``data_builders/bpnet_profiles`` for the crop transforms).
"""

import ml_collections

TASKS = ("Oct4", "Sox2", "Nanog", "Klf4")
TRACK_NAMES = tuple(f"{t}/{s}" for t in TASKS for s in ("plus", "minus"))
VARIANTS = ("paper", "lite")


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
  variant = arg or "paper"
  if variant not in VARIANTS:
    raise ValueError(f"bpnet_mesc config: unknown variant {variant!r}; valid: "
                     f"{', '.join(VARIANTS)}")
  config = ml_collections.ConfigDict()
  config.seed = 0

  # Data: built by data_builders.bpnet_profiles.make (see the docstring).
  config.dataset = ml_collections.ConfigDict(dict(
      name="bpnet_profiles/mesc",
      data_dir=ml_collections.FieldReference(None, str),
      manual_dir=ml_collections.FieldReference(None, str),
      build_if_missing=False))
  config.train_split = "train"
  config.eval_splits = ("valid",)
  config.final_eval_splits = ("test",)
  config.model_inputs = ("sequence", "control")
  config.batch_size = 128  # bpnet9.gin.
  config.eval_batch_size = 128
  # Reverse complement swaps strands via the task's strand_pair; a shift of
  # the sequence alone would misalign the profile, so max_shift stays 0.
  config.augment = ml_collections.ConfigDict(dict(reverse_complement=True,
                                                  max_shift=0))
  config.data_workers = 0

  # Model: Avsec et al.; one profile and one count per task and strand; the
  # PATCH-CAP control enters as bpnet-lite feeds it.
  config.model_name = "bpnet.BPNet"
  config.model_preset = "paper"
  config.model = ml_collections.ConfigDict(dict(
      n_outputs=len(TRACK_NAMES), n_count_outputs=len(TRACK_NAMES),
      n_control_tracks=2))
  config.compute_dtype = "float32"

  # Task: multinomial NLL per strand + lambda x log-count MSE per task.
  config.task_name = "profile"
  config.task = ml_collections.ConfigDict(dict(
      count_weight=10.0,  # bpnet9.gin: lambda = 10.
      tracks_per_task=2,
      strand_pair=ml_collections.FieldReference(None, tuple),  # (+, -) pairs.
      control_strand_pair=ml_collections.FieldReference(None, tuple),
      track_names=TRACK_NAMES,
      jsd_smoothing=ml_collections.FieldReference(None, tuple)))

  # Optimizer: Keras Adam at 4e-3 as in bpnet9.gin; no schedule, no clipping.
  config.optimizer = ml_collections.ConfigDict(dict(
      name="adam", learning_rate=4e-3, schedule="constant", warmup_steps=0,
      end_learning_rate_factor=1.0, clip_norm=0.0, weight_decay=0.0,
      momentum=0.9, nesterov=False, b1=0.9, b2=0.999, eps=1e-8,
      grad_accum_steps=1))
  # ~150k summits / 128 per step: ~1,150 steps per epoch; ~17 epochs.
  config.num_train_steps = 20_000

  config.mesh_shape = (-1, 1)
  config.logical_axis_rules = (("batch", "data"),)

  config.log_every_steps = 100
  config.eval_every_steps = 1000
  config.max_eval_batches = ml_collections.FieldReference(None, int)
  config.checkpoint_every_steps = 1000
  config.keep_checkpoints = 3
  config.best_metric = "valid/loss"
  config.best_mode = "min"

  if variant == "lite":
    config.dataset.name = "bpnet_profiles/mesc_lite"
    config.model_preset = "bpnet_lite"
    config.batch_size = 64  # bpnet-lite's fit() default.
    config.optimizer.learning_rate = 1e-3
  return config
