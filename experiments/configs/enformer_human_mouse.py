r"""Enformer (Avsec et al., Nature Methods 2021) on human and mouse coverage tracks.

  python -m experiments.train --config=enformer_human_mouse --workdir=/ckpt/enformer
  python -m experiments.train --config=enformer_human_mouse:synthetic --workdir=/tmp/enf
  python -m experiments.train --config=enformer_human_mouse:synthetic_local --workdir=/tmp/enf_local
  python -m experiments.train --config=enformer_human_mouse:tiny --workdir=/tmp/enf_tiny

Default: the paper's model (251,221,292 parameters) and recipe on the Basenji2/Enformer
training data (``python -m data_builders.build --dataset=basenji_barnyard/human
--manual_dir=...`` and ``/mouse``; see BUILD.md): batch 64, Adam 5e-4 after a 5,000-step
linear warm-up, global-norm clipping 0.2, human and mouse batches in alternation,
reverse-complement (with target reversal) and ±3 bp shift augmentation, Poisson loss.
The paper trained 150,000 steps on 64 TPU v3 cores; on GPUs use
``--config.compute_dtype=bfloat16 --config.model.remat=True`` and a model-parallel mesh
(BUILD.md).

Variants:

``synthetic``: a reduced Enformer (dim 96, 2 transformer blocks, 366,505 parameters) on
the embedded two-species ``synthetic_coverage`` data (24,576 bp, 160 bins of 128 bp;
human 6 and mouse 3 tracks; enhancers raise promoter output up to 20 kb away), batch 8,
Adam 1e-3 after 100 warm-up steps, clipping 1.0, 800 steps. 800, not 2,000: measured on
a shared 2-core CPU at ~3 examples/s, 800 steps take 41 min end to end (2,000 would take
~1h40m); the dataset builds on first use in ~65 s.

``synthetic_local``: the same data and recipe with ``depth=0``: the conv tower alone
(226,473 parameters), so each output bin sees ``conv_receptive_field_bp(7)`` = 646 bp
(the bin ±259 bp), against the whole 24,576 bp for ``synthetic``. The pair isolates
long-range context (with the caveat that ``synthetic`` also has 140k more parameters).

``tiny``: seconds, for tests.

Measured (seed 0, test split, mean Pearson R over tracks; commands as above, logs in
``workdir/metrics.jsonl``, per track from ``experiments.evaluate --split=test``):

  =================  =====  ======  =====  ======  =====================================
  variant            steps  wall    ex/s   human   mouse
  =================  =====  ======  =====  ======  =====================================
  synthetic            800  41 min  3.0    0.423   0.601
  synthetic_local      800  27 min  4.5    0.535   0.682
  =================  =====  ======  =====  ======  =====================================

Per track kind (human CAGE / DNase / H3K27ac, mouse CAGE / DNase / H3K27ac):
``synthetic`` 0.51 / 0.40 / 0.35, 0.50 / 0.71 / 0.59; ``synthetic_local`` 0.77 / 0.51 /
0.33, 0.78 / 0.83 / 0.44. At 800 steps the short model wins on average: it learns the
local motif grammar (sharp CAGE and DNase peaks) faster, while the long model already
wins on H3K27ac, whose broad (sd 800 bp) lobes a 646-bp window cannot cover. Both are
far from the data's ceilings (Pearson R of the noise-free expected coverage with the
Poisson targets: 0.98 mean, 0.997 CAGE; with each promoter's enhancer boost replaced by
its mean, i.e. the best any model without enhancer-promoter context can do, 0.92 mean,
0.85 CAGE), so these runs measure learning speed more than the value of long-range context."""

import ml_collections

from experiments.configs import model_config

VARIANTS = ("real", "synthetic", "synthetic_local", "tiny")


def conv_receptive_field_bp(num_downsamples: int, stem_kernel: int = 15,
                            tower_kernel: int = 5) -> int:
  """bp of input that one output bin of Enformer's conv tower sees (no transformer).

  Stem conv ``stem_kernel`` at stride 1 and attention pool 2 (+1 bp); each of the
  ``num_downsamples - 1`` tower blocks at input stride s adds ``(tower_kernel - 1) s``
  (conv) + ``s`` (pool 2); pointwise convs, the crop and the heads add nothing.
  ``num_downsamples=7``: 15 + 1 + 5 (2 + 4 + ... + 64) = 646 bp.
  """
  field, stride = stem_kernel + 1, 2
  for _ in range(num_downsamples - 1):
    field += (tower_kernel - 1) * stride + stride
    stride *= 2
  return field


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
  variant = arg or "real"
  if variant not in VARIANTS:
    raise ValueError(f"enformer_human_mouse: unknown variant {variant!r}; "
                     f"valid: {', '.join(VARIANTS)}")
  config = ml_collections.ConfigDict()
  config.seed = 0

  # Data: one stream per species, alternating step by step.
  config.species = ("human", "mouse")
  config.dataset = ml_collections.ConfigDict(dict(
      name="basenji_barnyard/{species}", data_dir=ml_collections.FieldReference(None, str),
      manual_dir=ml_collections.FieldReference(None, str), build_if_missing=False))
  config.train_split = "train"
  config.eval_splits = ("valid",)
  config.final_eval_splits = ("test",)
  config.model_inputs = ("sequence",)
  config.batch_size = 64
  config.eval_batch_size = 64
  config.augment = ml_collections.ConfigDict(dict(reverse_complement=True, max_shift=3))
  config.data_workers = 0

  # Model: the paper's Enformer, heads human 5,313 and mouse 1,643 tracks.
  config.model_name = "enformer"
  config.model_preset = "paper"
  config.model = model_config("enformer", "paper", remat=False)
  config.compute_dtype = "float32"

  # Task: Poisson NLL on coverage; Pearson R per track, averaged per species.
  config.task_name = "coverage"
  config.task = ml_collections.ConfigDict(dict(objective="poisson", log_pearson=False))

  # Optimizer (paper, Methods: Adam, lr 5e-4, 5,000 warm-up steps, clip 0.2).
  config.optimizer = ml_collections.ConfigDict(dict(
      name="adam", learning_rate=5e-4, schedule="constant", warmup_steps=5000,
      clip_norm=0.2, b1=0.9, b2=0.999, eps=1e-8, weight_decay=0.0, grad_accum_steps=1))
  config.num_train_steps = 150_000

  # Parallelism: attention heads, MLP hidden units and output tracks on "model".
  config.mesh_shape = (-1, 1)
  config.logical_axis_rules = (("batch", "data"), ("heads", "model"), ("mlp", "model"),
                               ("tracks", "model"))

  config.log_every_steps = 100
  config.eval_every_steps = 5000
  config.max_eval_batches = ml_collections.FieldReference(None, int)
  config.checkpoint_every_steps = 1000
  config.keep_checkpoints = 3
  config.best_metric = "valid/human/pearsonr"
  config.best_mode = "max"

  if variant in ("synthetic", "synthetic_local"):
    # 24,576 bp, 160 bins of 128 bp; 6 human and 3 mouse tracks (synthetic_coverage).
    config.dataset.name = "synthetic_coverage/{species}"
    config.dataset.build_if_missing = True
    config.model_preset = "tiny"
    config.model = model_config("enformer", "tiny", dim=96, depth=2, heads=4, attn_dim_key=16,
                                num_downsamples=7, dim_divisible_by=16, target_length=160)
    config.batch_size = 8
    config.eval_batch_size = 16
    config.optimizer.learning_rate = 1e-3
    config.optimizer.warmup_steps = 100
    config.optimizer.clip_norm = 1.0
    config.num_train_steps = 800
    config.log_every_steps = 50
    config.eval_every_steps = 400
    config.checkpoint_every_steps = 400
    if variant == "synthetic_local":
      # The same conv tower with no transformer: each bin sees 646 bp.
      config.model.depth = 0
  elif variant == "tiny":
    # 2,048 bp, 48 bins of 32 bp (synthetic_coverage/tiny_*).
    config.dataset.name = "synthetic_coverage/tiny_{species}"
    config.dataset.build_if_missing = True
    config.model_preset = "tiny"
    config.model = model_config("enformer", "tiny", num_downsamples=5, target_length=48)
    config.batch_size = 8
    config.eval_batch_size = 16
    config.optimizer.learning_rate = 2e-3
    config.optimizer.warmup_steps = 20
    config.optimizer.clip_norm = 1.0
    config.num_train_steps = 1000
    config.log_every_steps = 100
    config.eval_every_steps = 250
    config.checkpoint_every_steps = 250
  return config
