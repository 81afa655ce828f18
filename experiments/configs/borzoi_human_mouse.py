r"""Borzoi (Linder et al., Nat. Genet. 2025) on human and mouse coverage tracks.

  python -m experiments.train --config=borzoi_human_mouse --workdir=/ckpt/borzoi
  python -m experiments.train --config=borzoi_human_mouse:synthetic --workdir=/tmp/borzoi
  python -m experiments.train --config=borzoi_human_mouse:tiny --workdir=/tmp/borzoi_tiny

Default (``real``): the paper's model (190,902,667 parameters: 524,288 bp in, 6,144
bins of 32 bp out, human 7,611 and mouse 2,608 tracks of RNA-seq, CAGE, DNase/ATAC and
ChIP-seq) and recipe (calico/borzoi ``examples/params.json``): Adam 6e-5 after a
20,000-step linear warm-up, global-norm clipping 0.15, Poisson-multinomial loss with
total weight 0.2, reverse-complement and ±3 bp shift augmentation, human and mouse
batches in alternation. Its data are the Borzoi training TFRecords
(``gs://borzoi-paper/data``, requester pays): squashed-scale targets
(``genereg_jax.models.borzoi.squashed_scale``; ``undo_squashed_scale`` turns
predictions back into coverage), eight folds of which fold3 is the test set and fold4
the validation set; build them with
``python -m data_builders.build --dataset=borzoi_data/human --manual_dir=...``
(and ``/mouse``). params.json's batch is 1 per device; 2 here. It trains by epochs
(130 to 180, stopping after 30 without improvement), so ``num_train_steps`` is a cap:
stop on ``valid/human/pearsonr``. On accelerators use
``--config.compute_dtype=bfloat16 --config.model.remat=True``.

Variants:

``synthetic``: a reduced Borzoi (dim 64, 2 transformer blocks at 128 bp, the same
U-Net) on the embedded two-species ``synthetic_coverage`` data at 32-bp resolution
(``{species}_32bp``: 24,576 bp, 512 of 768 bins kept; human 6 and mouse 3 tracks),
batch 8, Adam 1e-3 after 100 warm-up steps, clipping 1.0, 800 steps. Measured (seed 0,
shared 2-core CPU at load ~25, so only roughly comparable): 14m41s of training at ~7.5
examples/s (the two 32-bp datasets build on first use in ~3 min); test Pearson R per
track over all bins, averaged per species, human 0.507 and mouse 0.617 (valid 0.517 /
0.595, up from 0.163 / 0.152 at step 400). Enformer's ``:synthetic`` reaches 0.423 /
0.601 in 800 steps on data from the same generative model at 128-bp resolution.

``tiny``: seconds, for tests (2,048 bp, 48 bins of 32 bp).
"""

import ml_collections

from experiments.configs import _base, model_config

VARIANTS = ("real", "synthetic", "tiny")


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
  variant = arg or "real"
  _base.check_variant("borzoi_human_mouse", variant, VARIANTS)
  # Model: the paper's Borzoi, heads human 7,611 and mouse 2,608 tracks.
  # Optimizer (params.json: Adam, lr 6e-5, 20,000 warm-up steps, global clip 0.15).
  config = _base.coverage_config(
      species=("human", "mouse"), batch_size=2, eval_batch_size=2,
      model_name="borzoi", model_preset="paper",
      model=model_config("borzoi", "paper", remat=False),
      optimizer=dict(learning_rate=6e-5, schedule="constant", warmup_steps=20_000,
                     clip_norm=0.15),
      num_train_steps=1_000_000, log_every_steps=100, eval_every_steps=5000,
      checkpoint_every_steps=1000)
  config.dataset.name = "borzoi_data/{species}"
  # Loss (params.json: "poisson_mn", total_weight 0.2).
  config.task.objective = "poisson_multinomial"
  config.task.total_weight = 0.2
  # Parallelism: attention heads, MLP hidden units and output tracks on "model".
  config.logical_axis_rules = (("batch", "data"), ("heads", "model"), ("mlp", "model"),
                               ("tracks", "model"))

  if variant == "synthetic":
    # 24,576 bp, 768 bins of 32 bp, 512 kept; 6 human and 3 mouse tracks.
    _base.use_synthetic_coverage(
        config, "synthetic_coverage/{species}_32bp",
        model=dict(dim=64, depth=2, heads=4, attn_dim_key=16, attn_dim_value=16,
                   num_position_features=16, central_mask_length=192, stem_width=32,
                   tower_widths=(32, 40, 48, 56, 64), final_width=96,
                   target_length=512),
        learning_rate=1e-3, warmup_steps=100, num_train_steps=800, eval_every_steps=400)
    config.log_every_steps = 50
  elif variant == "tiny":
    # 2,048 bp, 48 bins of 32 bp (synthetic_coverage/tiny_*): the tiny preset.
    _base.use_synthetic_coverage(
        config, "synthetic_coverage/tiny_{species}", learning_rate=2e-3,
        warmup_steps=20, num_train_steps=1000, eval_every_steps=250)
  return config
