r"""DeepUbi (Fu et al., BMC Bioinformatics 2019): ubiquitination sites, 31-residue windows.

  python -m experiments.train --config=deepubi --workdir=/tmp/deepubi
  python -m experiments.train --config=deepubi:tiny --workdir=/tmp/deepubi_tiny
  python -m data_builders.build --dataset=uniprot_ptm/deepubi --manual_dir=DIR
  python -m experiments.train --config=deepubi:uniprot --workdir=/tmp/deepubi_uniprot

The released text CNN (``genereg_jax.models.deepubi``: central K dropped, linear
embedding to 21, widths 2-6 x 64 max-pooled, dense 128, dropout 0.3) on one-hot
windows, BCE on the ``ptm_sites`` task (AUROC, AUPRC, MCC at the best-F1 threshold).
Adam at 1e-3 and batches of 40 as released (``CNN_train.py``; it also decayed the rate
x0.95 per epoch over 10 epochs, here a cosine decay).

Variants: default ``synthetic_proteins/ubiquitin`` (an invented [D/E]-x-K-x-x-[L/I]
rule with decoys, since ubiquitination has no short consensus); ``tiny``
(``synthetic_proteins/tiny_ubiquitin``, tiny preset, seconds); ``uniprot`` (real
ubiquitination sites, ``uniprot_ptm/deepubi``, built from ``--manual_dir``). Other
encodings of the paper (one-hot + the 31 IPCP properties per residue) are a dataset
setting (``encoding="onehot+physchem"``): the model reads any channel count.

Measured (2-core CPU at load ~30, 19 min, ``synthetic_proteins`` 1.0.0): the default
reached test AUROC 0.837, AUPRC 0.793, MCC 0.640 (best-F1 threshold). Global max pooling
cannot place a motif relative to the central K, and the rule also matches elsewhere in
windows by chance, so it stays below MusiteDeep here (README, "PTM sites").
"""

import ml_collections

from experiments.configs import _base


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
  variant = arg or "default"
  _base.check_variant("deepubi", variant, ("default", "tiny", "uniprot"))
  config = _base.base_config(
      dataset="synthetic_proteins/ubiquitin", model_name="deepubi", model_preset="paper",
      model=dict(num_outputs=1), task_name="ptm_sites",
      task=dict(loss="bce", ptm_types=("ubiquitin_K",)), batch_size=40, eval_batch_size=500,
      optimizer=dict(learning_rate=1e-3, warmup_steps=50, clip_norm=0.0),
      num_train_steps=3000, log_every_steps=100, eval_every_steps=1000,
      checkpoint_every_steps=1000)
  _base.use_full_eval(config, log_every_steps=100, eval_every_steps=1000)
  if variant == "tiny":
    config.dataset.name = "synthetic_proteins/tiny_ubiquitin"
    config.model_preset = "tiny"
    config.eval_batch_size = 128
    config.optimizer.update(learning_rate=3e-3, warmup_steps=10)
    config.num_train_steps = 200
    _base.use_full_eval(config, log_every_steps=20, eval_every_steps=100)
  elif variant == "uniprot":
    _base.use_manual_dataset(config, "uniprot_ptm/deepubi", num_train_steps=20000,
                             every_steps=2000)
  return config


def get_sweep(arg: str | None = None) -> list[dict]:
  """Learning-rate sweep around the released 1e-3 (three trials)."""
  del arg
  return _base.learning_rate_sweep(3e-4, 1e-3, 3e-3)
