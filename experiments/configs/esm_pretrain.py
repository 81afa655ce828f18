r"""ESM-1b-style protein masked LM (Rives et al., PNAS 2021) on a protein FASTA.

  python -m experiments.train --config=esm_pretrain:tiny --workdir=/tmp/esm_tiny
  python -m experiments.train --config=esm_pretrain:small --workdir=/tmp/esm_small \
      --config.dataset.fasta=uniref50.fasta
  python -m experiments.train --config=esm_pretrain:esm1b --workdir=/tmp/esm1b \
      --config.dataset.fasta=uniref50.fasta

The ``language`` model with an ESM preset picked by name: ``esm1b`` (the default; the
paper's 650M model, fair-esm ``esm1b_t33_650M_UR50S``: 33 pre-LN layers of 1,280, 20
heads, learned positions), ``esm2_650m`` / ``esm2_8m`` (ESM-2's rotary models, Lin et
al. 2023), ``small`` (ESM-1b layers at ESM-2 8M's size: 6 x 320) and ``tiny`` (2 x 32,
64 tokens; CPU minutes). Data: ``genereg_jax.data.pretrain_sources.ProteinSequences``
over a UniRef-style FASTA (``--config.dataset.fasta``; 1% of records held out for
validation and 1% for test by a hash of their name), sequences cropped to 1,022
residues + ``<cls>``/``<eos>`` as ESM-1b, masked as the paper (BERT's 15%, 80% ``<mask>``,
10% a random residue, 10% unchanged). Without a FASTA: the embedded synthetic families
(50 random ancestors of 60-200 residues, 40 members each with 20% of residues redrawn;
built on first use). The optimizer (Adam, peak 1e-4, linear warm-up over 16,000 steps,
then cosine decay, batch 256 sequences) is this config's choice, not transcribed
from the paper.

Variants: ``default`` (= ``esm1b``), ``esm1b``, ``esm2_650m``, ``esm2_8m``, ``small``, ``tiny``.
"""

import ml_collections

from experiments.configs import model_config
from experiments.configs.dnabert_pretrain import pretrain_config

VARIANTS = ("default", "esm1b", "esm2_650m", "esm2_8m", "small", "tiny")


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
  variant = arg or "default"
  if variant not in VARIANTS:
    raise ValueError(f"esm_pretrain config: unknown variant {variant!r}; valid: "
                     f"{', '.join(VARIANTS)}")
  preset = {"default": "esm1b", "small": "esm1b_small", "tiny": "esm1b_tiny"}.get(
      variant, variant)
  max_length = 64 if variant == "tiny" else (256 if variant == "small" else 1024)
  config = pretrain_config(
      stream="proteins", model_name="language", model_preset=preset,
      model=model_config("language", preset), model_inputs=("input_ids", "attention_mask"),
      stream_options=dict(max_length=max_length, valid_fraction=0.01, test_fraction=0.01,
                          mlm_probability=0.15),
      optimizer=dict(name="adam", learning_rate=1e-4, warmup_steps=16_000,
                     schedule="cosine", end_learning_rate_factor=0.1),
      batch_size=256, num_train_steps=500_000, eval_every_steps=5000)
  config.max_eval_batches = 4
  if variant in ("tiny", "small"):
    # The synthetic families are small: hold out whole families' worth of records.
    config.dataset.update(valid_fraction=0.1, test_fraction=0.1)
    config.batch_size = config.eval_batch_size = 32
    config.optimizer.update(learning_rate=1e-3, warmup_steps=100)
    config.num_train_steps = 2000 if variant == "tiny" else 10_000
    config.eval_every_steps = config.checkpoint_every_steps = 500
    config.max_eval_batches = None
  return config
