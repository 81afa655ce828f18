r"""MSA Transformer pretraining (Rao et al., ICML 2021): masked LM over A3M alignments.

  python -m experiments.train --config=msa_transformer_pretrain:tiny --workdir=/tmp/msa_tiny
  python -m experiments.train --config=msa_transformer_pretrain --workdir=/tmp/msa \
      --config.dataset.a3m=/data/a3m_dir

``msa_transformer`` (preset ``paper``: 12 axial layers of 768, 12 heads, tied row
attention + column attention; ``tiny``: 2 x 32) on
``genereg_jax.data.pretrain_sources.MsaFiles``: ``.a3m`` files from a directory or a
comma-separated list (``--config.dataset.a3m``; 10% of files held out for validation
and 10% for test by a hash of their name), insertions dropped, the query plus a random
subset of the other rows up to ``max_rows``, a random crop to ``max_columns`` tokens per
row (``<cls>`` first), 15% of the aligned tokens masked 80/10/10 as ESM. The paper
sampled up to 2^14 tokens per MSA (e.g. 64 rows x 256 columns, the default here).
Without ``a3m``: the embedded synthetic families (40 alignments of 48 rows, 50-120
columns, 25% substitutions, 5% deletions, some insertions; built on first use). The
optimizer (Adam, peak 1e-4, 16,000 warm-up steps, cosine decay) is this config's
choice, not transcribed from the paper.

Variants: ``default`` (paper model), ``tiny`` (16 rows x 64 columns; CPU minutes).
"""

import ml_collections

from experiments.configs import _base
from experiments.configs import model_config
from experiments.configs.dnabert_pretrain import pretrain_config

VARIANTS = ("default", "tiny")


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
  variant = arg or "default"
  _base.check_variant("msa_transformer_pretrain", variant, VARIANTS)
  preset = "tiny" if variant == "tiny" else "paper"
  config = pretrain_config(
      stream="msas", model_name="msa_transformer", model_preset=preset,
      model=model_config("msa_transformer", preset), model_inputs=("input_ids",),
      stream_options=dict(max_rows=64, max_columns=256, valid_fraction=0.1,
                          test_fraction=0.1, mlm_probability=0.15),
      optimizer=dict(name="adam", learning_rate=1e-4, warmup_steps=16_000,
                     schedule="cosine", end_learning_rate_factor=0.1),
      batch_size=512, num_train_steps=100_000, eval_every_steps=5000)
  config.max_eval_batches = 4
  if variant == "tiny":
    config.dataset.update(max_rows=16, max_columns=64)
    config.batch_size = config.eval_batch_size = 8
    config.optimizer.update(learning_rate=1e-3, warmup_steps=100)
    config.num_train_steps = 1000
    config.eval_every_steps = config.checkpoint_every_steps = 250
    config.dataset.eval_records = 64
    config.max_eval_batches = None
  return config
