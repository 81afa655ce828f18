r"""DanQ (Quang & Xie 2016) on the embedded synthetic JASPAR-motif data, 1,000 bp.

  python -m experiments.train --config=danq --workdir=/tmp/danq
  python -m experiments.train --config=danq:tiny --workdir=/tmp/danq_tiny

The model is the paper's (conv 320×26, max-pool 13, dropout 0.2, BiLSTM 320 per
direction over the 75 pooled steps, dropout 0.5, dense 925; 46.9 M parameters at 919
outputs) with one output per synthetic label, on ``synthetic_motifs/default`` (1,000 bp,
DeepSEA's window, which DanQ shares). The spacing and orientation labels
(``oct_sox_composite``, ``pu1_cebp_pair``, ``ctcf_convergent``) are the ones the BiLSTM
is there for. ``:tiny`` (32 kernels, 32 LSTM units per direction, 200 bp, 600 steps)
takes about a minute on the 2-core CPU reference machine and reached a test mean AUROC
of 0.72 on synthetic_motifs 1.2.0 (``deepsea:tiny``: 0.76 in the same budget, with
its first-layer bias at -1).
Variants: ``tiny``; ``real`` (the DeepSEA .mat bundle, 919 labels). ``get_sweep`` sweeps the learning rate.
"""

import ml_collections

from experiments.configs import _base

from data_builders.synthetic_motifs import synthetic_motifs


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
  variant = arg or "default"
  _base.check_variant("danq", variant, ("default", "tiny", "real"))
  # The paper's architecture with one output per synthetic label, at 1,000 bp. The paper
  # used Keras' RMSprop (learning rate 1e-3), batches of 100, up to 60 epochs with early
  # stopping (patience 5); Adam reaches a good model in one pass over the synthetic set.
  config = _base.base_config(
      dataset="synthetic_motifs/default", model_name="danq", model_preset="paper",
      model=dict(num_outputs=len(synthetic_motifs.LABEL_NAMES)),
      task_name="multilabel_binary", task=dict(label_names=synthetic_motifs.LABEL_NAMES))

  if variant == "real":
    # The DeepSEA bundle, 919 labels; the paper's RMSprop 1e-3 with batches of 100.
    _base.use_deepsea_bundle(config)
    config.batch_size = 100
    config.optimizer.update(dict(name="rmsprop", learning_rate=1e-3, schedule="constant",
                                 warmup_steps=0, clip_norm=0.0, momentum=0.0))
    config.num_train_steps = 44_000 * 10  # 10 of the paper's (up to 60) epochs.
    config.eval_every_steps = 44_000
    config.checkpoint_every_steps = 4_000
  if variant == "tiny":
    _base.use_tiny_synthetic_motifs(config, learning_rate=3e-3)
  return config


def get_sweep(arg: str | None = None) -> list[dict]:
  """Learning-rate sweep around the default (three trials)."""
  del arg
  return _base.learning_rate_sweep(3e-4, 1e-3, 3e-3)
