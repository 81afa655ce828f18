r"""Beluga, ExPecto's chromatin model (Zhou et al. 2018), on the embedded synthetic motif data.

  python -m experiments.train --config=expecto:tiny --workdir=/tmp/beluga_tiny
  python -m experiments.expecto features --layout=synthetic --workdir=/tmp/beluga_tiny \
      --tss=/tmp/ex/tss.bed --fasta=/tmp/ex/genome.fa --out=/tmp/ex/beluga_features.npz

Stage 1 of ExPecto through the shared trainer: the paper-size Beluga (six convolutions
320/320/480/480/640/640 x8, max-pool 4 twice, dense 2,003; `genereg_jax.models.beluga`)
with one sigmoid output per synthetic label, multilabel BCE, as DeepSEA. The published
Beluga was trained on 2,002 ENCODE/Roadmap profiles over 2,000 bp windows, which are not
distributed in a reusable form; its weights load directly instead (``--beluga_weights``
of ``experiments.expecto``). ``:tiny`` (tiny preset, 200 bp) takes the synthetic ExPecto
layout's 200 bp windows, so its workdir can feed ``experiments.expecto features``.
"""

import ml_collections

from experiments.configs import _base

from data_builders.synthetic_motifs import synthetic_motifs


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
  variant = arg or "default"
  _base.check_variant("expecto", variant, ("default", "tiny"))
  # Beluga's layers with one output per synthetic label; Adam 1e-3, reverse-complement
  # augmentation and the first-layer bias -1 of the DeepSEA config on the same data (its
  # docstring says why); the paper's Torch training recipe is not published.
  config = _base.base_config(
      dataset="synthetic_motifs/default", model_name="beluga", model_preset="paper",
      model=dict(num_outputs=len(synthetic_motifs.LABEL_NAMES), first_conv_bias=-1.0),
      task_name="multilabel_binary", task=dict(label_names=synthetic_motifs.LABEL_NAMES),
      reverse_complement=True, optimizer=dict(learning_rate=1e-3),
      num_train_steps=2400, eval_every_steps=400, checkpoint_every_steps=400)
  if variant == "tiny":
    _base.use_tiny_synthetic_motifs(config, learning_rate=3e-3)
  return config
