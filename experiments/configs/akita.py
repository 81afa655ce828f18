r"""Akita (Fudenberg, Kelley & Pollard, Nat. Methods 2020): DNA -> contact maps.

  python -m experiments.train --config=akita --workdir=/tmp/akita          # synthetic
  python -m experiments.train --config=akita:tiny --workdir=/tmp/akita_tiny
  python -m data_builders.hic_maps.make --name=akita_hg38 --fasta=hg38.ml.fa \
      --targets=targets.txt --valid=chr10 --test=chr8,chr9 --data_dir=/data/tfds
  python -m experiments.train --config=akita:real --workdir=/ckpt/akita \
      --config.dataset.data_dir=/data/tfds

Default (``synthetic``): Akita's blocks at a sixth of the paper's widths (preset
``synthetic`` with one tower pool fewer: 16,384 bp -> 64 bins of 256 bp, crop 4 -> 56 x
56, diagonal offset 2) on the embedded ``synthetic_contacts/dense`` maps (loop extrusion
between convergent planted CTCF MA0139 sites, 12 strong sites per example on average;
targets wild_type and wapl_depleted; built on first use), masked MSE on the upper
triangles, reverse-complement (the task flips the map) and +-11 bp shift augmentation,
Adam 4e-3 (warm-up 50, cosine), batch 4, 600 steps (sized for a shared 2-core CPU).

``real``: the released model (746,149 parameters) and ``params.json`` recipe on a
``hic_maps`` dataset made from .cool/.mcool/.hic files (above; never built on use):
1,048,576 bp, 448 x 448 bins of 2,048 bp, offset 2, 5 targets; SGD learning rate
0.0065, momentum 0.99575, clip norm 10, batch 2, MSE, reverse complement and +-11 bp
shifts. ``--config.dataset.name=hic_maps/<name>`` picks another ``make --name``.
``human_mouse`` trains Akita v2's two species in alternation (shared trunk, one 2-D
head each; datasets ``hic_maps/akita_human`` and ``hic_maps/akita_mouse``).
``tiny`` runs on ``synthetic_contacts/tiny`` in seconds, for tests.

Measured (``synthetic``, seed 0, 2-core CPU at load 20-25, 13m51s after a 4m47s
build): the maps are learned. Valid (80 maps) map Pearson 0.070 at step 200, 0.473 at
400, 0.587 at 600; test (100 maps) pooled Pearson 0.580, per-map 0.559, Spearman 0.532,
insulation 0.435; the data's oracle (module docstring of synthetic_contacts) 0.971 /
0.991. On the earlier ``synthetic_contacts/default`` (32,768 bp in 512-bp bins, 8 sites,
30% weak, depth 1,000) the same blocks stayed at test map Pearson 0.055 after 600 steps
at 2e-3 and valid 0.031 after 500 at 1e-2, although they overfit 4 maps (r 0.93) and
their 2-D head on the true sites reaches 0.71 / 0.83 in 200 steps: finding the motif
through the map was the bottleneck (README "Contact maps").
"""

import ml_collections

from experiments.configs import _base, model_config

VARIANTS = ("synthetic", "tiny", "real", "human_mouse")


def contact_config(model_name: str, variant: str, *, learning_rate: float,
                   num_train_steps: int, **dense_geometry) -> ml_collections.ConfigDict:
  """A ``contact_map`` config on ``synthetic_contacts`` (``synthetic`` or ``tiny``).

  ``synthetic`` reads ``synthetic_contacts/dense`` (256-bp bins): ``dense_geometry`` are
  the model fields that bring the ``synthetic`` preset (made for ``default``'s 512-bp
  bins) to it; ``--config.dataset.name=synthetic_contacts/default`` with the preset's
  own fields (e.g. ``--config.model.num_tower_blocks=8`` for Akita) trains on the
  sparser 32,768-bp design instead.
  """
  tiny = variant == "tiny"
  config = _base.base_config(
      dataset="synthetic_contacts/tiny" if tiny else "synthetic_contacts/dense",
      model_name=model_name, model_preset=variant,
      model=model_config(model_name, variant, **({} if tiny else dense_geometry)),
      task_name="contact_map",
      task=dict(head="human"), batch_size=4, eval_batch_size=16,
      reverse_complement=True, max_shift=11,
      optimizer=dict(learning_rate=learning_rate, warmup_steps=20 if tiny else 50,
                     clip_norm=1.0),
      num_train_steps=num_train_steps, best_metric="valid/pearsonr")
  _base.use_full_eval(config, log_every_steps=10 if tiny else 50,
                      eval_every_steps=num_train_steps if tiny else 200)
  config.max_eval_batches = None if tiny else 5  # 80 maps per periodic evaluation.
  return config


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
  variant = arg or "synthetic"
  _base.check_variant("akita", variant, VARIANTS)
  if variant in ("synthetic", "tiny"):
    tiny = variant == "tiny"
    # synthetic: one tower pool fewer than the preset (dense's 256-bp bins).
    return contact_config("akita", variant, learning_rate=2e-3 if tiny else 4e-3,
                          num_train_steps=60 if tiny else 600, num_tower_blocks=7)

  # manuscripts/akita/params.json: sgd 0.0065, momentum 0.99575, clip_norm 10, batch 2,
  # mse, augment_rc, augment_shift 11.
  preset = "paper" if variant == "real" else "human_mouse"
  config = _base.base_config(
      dataset="hic_maps/akita_hg38", build_if_missing=False, model_name="akita",
      model_preset=preset, model=model_config("akita", preset), task_name="contact_map",
      task=dict(head="human"), batch_size=2, eval_batch_size=4, reverse_complement=True,
      max_shift=11,
      optimizer=dict(name="sgd", learning_rate=0.0065, momentum=0.99575,
                     schedule="constant", warmup_steps=0, clip_norm=10.0),
      best_metric="valid/pearsonr")
  _base.use_manual_dataset(config, config.dataset.name, num_train_steps=200_000,
                           every_steps=2_000)
  if variant == "human_mouse":
    config.dataset.name = "hic_maps/akita_{species}"
    config.species = ("human", "mouse")
    config.best_metric = "valid/human/pearsonr"
  return config
