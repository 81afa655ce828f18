r"""DNABERT pretraining (Ji et al., Bioinformatics 2021): k-mer masked LM on a genome.

  python -m experiments.train --config=dnabert_pretrain:tiny --workdir=/tmp/dnabert_tiny
  python -m experiments.train --config=dnabert_pretrain:k=6 --workdir=/tmp/dnabert6 \
      --config.dataset.fasta=hg38.fa
  python -m experiments.train --config=dnabert_pretrain:k=3 --workdir=/tmp/dnabert3

BERT-base (12 post-LN layers, hidden 768, 12 heads, 512 tokens; ``language`` preset
``dnabert``) on overlapping k-mers, trained with the ``mlm`` task on windows drawn on
the fly from a genome FASTA (``genereg_jax.data.pretrain_sources.GenomeWindows``:
510 k-mers + [CLS]/[SEP] per window, windows with > 10% N redrawn, chr8 held out for
validation and chr9 for test). Masking is DNABERT's: span centres with probability
0.15 / k (0.025 for 6-mers, as the reference script), each masking k consecutive k-mers
(about 15% of tokens), 80/10/10; ``dataset.mask_span`` (default ``k``,
DNABERT's) masks more tokens per centre, ``k + m - 1`` hiding ``m`` nucleotides
(``tasks.mlm.span_offsets``). The
optimizer is the paper's (``examples/run_pretrain.py`` of github.com/jerryji1993/DNABERT
and its README command): AdamW, peak learning rate 4e-4, betas (0.9, 0.98), eps 1e-6,
weight decay 0.01 (the reference exempts biases and LayerNorm; here every parameter
decays), 10,000 warm-up steps then linear decay, clipping 1.0; the paper trained
120,000 steps of 2,000 sequences (25-step accumulation on 8 GPUs), here
``grad_accum_steps=25`` of 80 per micro-batch. Without ``--config.dataset.fasta`` the
run uses the embedded synthetic genome (10 chromosomes of 200 kb, i.i.d. bases with
sites of the ``synthetic_motifs`` JASPAR motifs planted ~once per 60 bp, and N gaps;
built on first use).

Variants: ``default`` (= ``k=6``), ``k=3`` … ``k=6`` (DNABERT-3 … 6, vocabularies
4^k + 5), ``tiny`` (k = 3, 2 layers of 32, 64 tokens; CPU minutes), ``tiny64`` (k = 3,
2 layers of 64 with FFN 128 and rotary positions, 128-token windows, no dropout,
learning rate 3e-3, batch 32, 4,000 steps: the base of README "Fifth proof", 7 min on
the quiet 2-core CPU; fine-tuned by ``dnabert_finetune:tiny64``), ``tiny128`` (the same
at width 128, FFN 256: README "Sixth proof", 27 min at load ~5), and ``small``
(4 layers of 256, k = 6, 128 tokens).

Measured on the 2-core CPU machine, shared (load 37-41), on the synthetic genome
(``:tiny`` with dropout 0, learning rate 3e-3, 32-token windows, batch 32, 4,000 steps,
~17 min; the command is in README "Pretraining"): masked-3-mer NLL on chr8 1.608 nats
(accuracy 0.409) with rotary positions (``--config.model.position_embedding_type=rotary``),
against 4.186 for unigram 3-mer frequencies and 1.763 for copying what the unmasked
neighbours spell (``python -m experiments.mlm_baselines``); with DNABERT's learned
absolute positions the tiny model was at 3.581 after 4,000 steps, still descending
from the 3.85 plateau of copying the unchanged 10%. Those runs used the first genome
(12 random motifs); on the JASPAR genome (data dir ``v2``), rotary, 128-token windows,
batch 32, 4,000 steps (6.8 min at load ~3): valid/test 1.430/1.457 nats against
unigram 4.133 and copy bound 1.674 (README "Fine-tuning and adapters" has the command).

The grammar genome (``python -m data_builders.synthetic_motifs.genome --out=G.fa``, then
``--config.dataset.fasta=G.fa``: chromosomes of ``synthetic_motifs`` elements, so the
genome holds the task's grammar and per-element GC, not only its motifs), same recipe,
stopped at 3,000 of 4,000 steps (load 12-27): valid 1.667 / 1.525 / 1.458 nats at steps
1,000 / 2,000 / 3,000 against unigram 4.171 and copy bound 1.690.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import ml_collections

from experiments.configs import _base
from experiments.configs import model_config

VARIANTS = ("default", "k=3", "k=4", "k=5", "k=6", "tiny", "tiny64", "tiny128", "small")
#: The wider CPU-proof bases: the tiny recipe at these widths (README "Fifth proof").
WIDE = ("tiny64", "tiny128")
#: Sharding of the encoder when ``mesh_shape`` gives the model axis devices: attention
#: heads and feed-forward units split (Megatron-style), batch on data.
LANGUAGE_MODEL_RULES = (("batch", "data"), ("heads", "model"), ("mlp", "model"))


def pretrain_config(*, stream: str, model_name: str, model_preset: str,
                    model: Mapping[str, Any], model_inputs: tuple[str, ...],
                    stream_options: Mapping[str, Any], optimizer: Mapping[str, Any],
                    batch_size: int, num_train_steps: int,
                    eval_every_steps: int) -> ml_collections.ConfigDict:
  """A masked-LM pretraining config on a ``pretrain_sources`` stream.

  ``stream`` is the source kind (``genome``, ``proteins``, ``msas``); its input file
  field (``dataset.fasta`` or ``dataset.a3m``) is unset, meaning the embedded
  synthetic data; ``stream_options`` are the source's options (``dataset.k`` ...).
  """
  config = _base.base_config(
      dataset=f"pretrain/{stream}", model_name=model_name, model_preset=model_preset,
      model=model, task_name="mlm", task=dict(), model_inputs=model_inputs,
      # Evaluation takes no accumulation: 64 x 512 tokens x 4,101 logits is 0.5 GB.
      batch_size=batch_size, eval_batch_size=min(batch_size, 64), optimizer=optimizer,
      num_train_steps=num_train_steps, log_every_steps=50,
      eval_every_steps=eval_every_steps, checkpoint_every_steps=eval_every_steps,
      best_metric="valid/accuracy", best_mode="max")
  config.dataset.stream = stream
  path_field = "a3m" if stream == "msas" else "fasta"
  config.dataset[path_field] = ml_collections.FieldReference(None, str)
  config.dataset.update(dict(stream_options))
  # Windows per epoch: training never repeats one; evaluation is a fixed set.
  config.dataset.train_records = 10**9
  config.dataset.eval_records = 512
  config.logical_axis_rules = LANGUAGE_MODEL_RULES
  return config


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
  variant = arg or "default"
  _base.check_variant("dnabert_pretrain", variant, VARIANTS)
  tiny = variant == "tiny" or variant in WIDE
  k = int(variant[2:]) if variant.startswith("k=") else (3 if tiny else 6)
  preset = f"dnabert_{variant}" if tiny or variant == "small" else "dnabert"
  max_tokens = {"tiny": 64, "tiny64": 128, "tiny128": 128, "small": 128}.get(variant, 512)
  positions = 256 if variant in WIDE else max(max_tokens, 64)
  config = pretrain_config(
      stream="genome", model_name="language", model_preset=preset,
      model=model_config("language", preset, vocab_size=4**k + 5,
                         max_position_embeddings=positions),
      model_inputs=("input_ids", "attention_mask"),
      stream_options=dict(k=k, max_tokens=max_tokens, valid_chromosomes=("chr8",),
                          test_chromosomes=("chr9",), max_n_fraction=0.1,
                          mlm_probability=0.15 / k, mask_span=k),
      optimizer=dict(name="adamw", learning_rate=4e-4, b2=0.98, eps=1e-6,
                     weight_decay=0.01, schedule="linear", warmup_steps=10_000,
                     end_learning_rate_factor=0.0, grad_accum_steps=25),
      batch_size=2000, num_train_steps=120_000, eval_every_steps=5000)
  config.max_eval_batches = 4
  if tiny or variant == "small":
    config.batch_size = config.eval_batch_size = 64
    config.optimizer.update(learning_rate=1e-3, warmup_steps=100, grad_accum_steps=1)
    config.num_train_steps = 3000 if variant == "tiny" else 10_000
    config.eval_every_steps = config.checkpoint_every_steps = 500
    config.max_eval_batches = None
  if variant in WIDE:
    # The measured CPU recipe of README "Fifth proof" (there as :tiny + overrides):
    # no dropout, learning rate 3e-3, batch 32, 4,000 steps, 1,024 evaluation windows.
    config.model.update(dropout_rate=0.0, attention_dropout_rate=0.0,
                        embedding_dropout_rate=0.0)
    config.optimizer.learning_rate = 3e-3
    config.batch_size = 32
    config.num_train_steps = 4000
    config.eval_every_steps = 1000
    config.dataset.eval_records = 1024
  return config
