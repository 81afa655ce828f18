r"""RNATracker (Yan, Lécuyer & Blanchette, Bioinformatics 2019): mRNA localisation fractions.

  python -m experiments.train --config=rnatracker --workdir=/tmp/rnatracker
  python -m experiments.train --config=rnatracker:structure --workdir=/tmp/rnatracker_s
  python -m experiments.train --config=rnatracker:structure_baseline --workdir=/tmp/rnatracker_b
  python -m experiments.train --config=rnatracker:tiny --workdir=/tmp/rnatracker_tiny
  python -m data_builders.build --dataset=rna_localization/cefra_seq --manual_dir=DIR
  python -m experiments.train --config=rnatracker:cefra_seq --workdir=/tmp/rnatracker_cefra

The released model (``genereg_jax.models.rnatracker``: 2 x {32 kernels of 10, pool 3,
dropout 0.2}, BiLSTM 32, attention 50, softmax over 4 compartments) with the KL
divergence of the measured fractions (``fractions`` task), Nadam (Keras defaults:
learning rate 0.002), batches of 256 as released (``Scripts/RNATracker.py``; it trained
up to 100 epochs with early stopping). Transcripts: the last 4,000 nt, zero-padded at
the 5' start (``rna_localization``).

Variants:
* default: ``synthetic_rna/localization`` (zip codes active anywhere, 500-2,000 nt);
* ``structure``: ``synthetic_rna/localization_structure`` (a zip code counts only in a
  hairpin loop) with the RNAplfold channels as a second input;
* ``structure_baseline``: the same data, sequence only (what ``structure`` must beat);
* ``tiny``: ``synthetic_rna/tiny``, tiny preset, seconds;
* ``cefra_seq``, ``apex_rip``, ``cefra_seq_structure``, ``apex_rip_structure``: the
  real data (``rna_localization``; build it first).

Measured (2-core CPU at load ~25, ``synthetic_rna`` 1.0.0, 1,200 steps of 64, ~15 min
each there; seeds 0 and 1): ``structure`` reached test KL 0.0164 / 0.0174, mean
Pearson 0.947 / 0.942 and dominant-compartment accuracy 0.895 / 0.885;
``structure_baseline`` (same data, no structure) KL 0.0268 / 0.0262, Pearson 0.918 /
0.914, accuracy 0.875 / 0.900. Structure wins on KL and Pearson in both seeds. Train step (``experiments.benchmarks.rnatracker_train_step``,
CPU at load ~30): 15.7 examples/s at 4 kb (batch 16, XLA temp 96 MB) and 2.0 at 30 kb
(batch 4, 181 MB).
"""

import ml_collections

from experiments.configs import _base

from data_builders.rna_localization import rna_localization

REAL = ("cefra_seq", "apex_rip", "cefra_seq_structure", "apex_rip_structure")


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
  variant = arg or "default"
  _base.check_variant("rnatracker", variant,
                      ("default", "structure", "structure_baseline", "tiny") + REAL)
  config = _base.base_config(
      dataset="synthetic_rna/localization", model_name="rnatracker", model_preset="paper",
      model=dict(num_outputs=len(rna_localization.CEFRA_SEQ_COMPARTMENTS)),
      task_name="fractions", task=dict(compartments=rna_localization.CEFRA_SEQ_COMPARTMENTS),
      batch_size=256, eval_batch_size=256,
      # Keras' Nadam defaults (lr 0.002); no schedule in the released code.
      optimizer=dict(name="nadam", learning_rate=2e-3, schedule="constant", warmup_steps=0,
                     clip_norm=0.0),
      num_train_steps=600, log_every_steps=20, eval_every_steps=200,
      checkpoint_every_steps=200, best_metric="valid/kl", best_mode="min")
  if variant in ("structure", "structure_baseline"):
    config.dataset.name = "synthetic_rna/localization_structure"
    config.batch_size = 64
    config.num_train_steps = 1200
    if variant == "structure":
      config.model_inputs = ("sequence", "structure")
  elif variant == "tiny":
    config.dataset.name = "synthetic_rna/tiny"
    config.model_preset = "tiny"
    config.batch_size = 32
    config.eval_batch_size = 64
    config.num_train_steps = 200
    config.optimizer.learning_rate = 1e-2
    _base.use_full_eval(config, log_every_steps=20, eval_every_steps=100)
  elif variant in REAL:
    config.dataset.name = f"rna_localization/{variant}"
    config.dataset.build_if_missing = False
    config.num_train_steps = 3000
    if variant.startswith("apex_rip"):
      config.task.compartments = rna_localization.APEX_RIP_COMPARTMENTS
    if variant.endswith("_structure"):
      config.model_inputs = ("sequence", "structure")
  return config


def get_sweep(arg: str | None = None) -> list[dict]:
  """Learning-rate sweep around Nadam's default (three trials)."""
  del arg
  return _base.learning_rate_sweep(5e-4, 2e-3, 5e-3)
