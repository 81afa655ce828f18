r"""Orca's 1-Mb model (Zhou, Nat. Genet. 2022) on embedded synthetic contact maps.

  python -m experiments.train --config=orca_1mb --workdir=/tmp/orca        # synthetic
  python -m experiments.train --config=orca_1mb:tiny --workdir=/tmp/orca_tiny

Default (``synthetic``): Orca's encoder (residual k=9 conv pairs with max-pools) and
dilated residual 2-D decoder, narrow (8-32 channels) and with 5 of its 19 decoder blocks
(preset ``synthetic`` with one encoder stage fewer: 16,384 bp -> 64 bins of 256 bp, crop
4 -> 56 x 56, offset 2), on ``synthetic_contacts/dense`` (the maps Akita's config trains
on, so the two are compared on the same data), masked MSE on the upper triangles,
reverse-complement and +-11 bp shift augmentation, Adam 4e-3, batch 4, 1,200 steps. The
paper's model (``orca_1mb`` preset ``paper``: 1,000,000 bp -> 250 x 250 bins of 4 kb,
4,769,429 parameters) trained with SGD 0.002, momentum 0.98, batch 16 on
log((observed + eps) / (expected + eps)) of 4DN micro-C; its multi-scale cascade (32 Mb,
256 Mb) is not built here, and no real-data variant is defined (``hic_maps`` applies
Akita's preprocessing, not Orca's).
``tiny`` runs on ``synthetic_contacts/tiny`` in seconds, for tests.

Measured (``synthetic``, seed 0, 2-core CPU at load 11-15, 9m28s): the maps are learned,
more slowly than by Akita (hence twice its steps). Valid (80 maps) map Pearson 0.045 at
step 200, 0.170 at 400, 0.272 at 600, 0.539 at 800, 0.601 at 1,200; test (100 maps)
pooled 0.595, per-map 0.572, insulation 0.434 (oracle 0.971 / 0.991). A 600-step
schedule ended at test 0.221 / 0.210. On the earlier ``synthetic_contacts/default`` it
stayed at test 0.024 after 400 steps at 2e-3.
"""

import ml_collections

from experiments.configs import _base
from experiments.configs import akita

VARIANTS = ("synthetic", "tiny")


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
  variant = arg or "synthetic"
  _base.check_variant("orca_1mb", variant, VARIANTS)
  tiny = variant == "tiny"
  # synthetic: one encoder stage fewer than the preset (dense's 256-bp bins).
  return akita.contact_config("orca", variant, learning_rate=2e-3 if tiny else 4e-3,
                              num_train_steps=60 if tiny else 1_200,
                              encoder_features=(8, 16, 32, 32, 32),
                              pool_sizes=(4, 4, 4, 4))
