r"""DNABERT fine-tuning (Ji et al., Bioinformatics 2021): full, frozen trunk, LoRA, DoRA, IA3.

  python -m experiments.train --config=dnabert_pretrain:tiny --workdir=/tmp/dnabert_pre \
      --config.model.position_embedding_type=rotary --config.model.max_position_embeddings=256 \
      --config.dataset.max_tokens=128  # + the flags of README "Fine-tuning and adapters"
  python -m experiments.train --config=dnabert_finetune:tiny,rotary,n=500 --workdir=/tmp/ft \
      --config.init_from_kwargs.path=/tmp/dnabert_pre
  python -m experiments.train --config=dnabert_finetune:tiny,rotary,n=500,lora \
      --workdir=/tmp/lora --config.init_from_kwargs.path=/tmp/dnabert_pre
  python -m experiments.train --config=dnabert_finetune:tiny,rotary,n=500,scratch --workdir=/tmp/s
  python -m experiments.train --config=dnabert_pretrain:tiny128 --workdir=/tmp/pre128 \
      --config.dataset.fasta=G.fa  # python -m data_builders.synthetic_motifs.genome --out=G.fa
  python -m experiments.train --config=dnabert_finetune:tiny128,all,lora,n=500 \
      --workdir=/tmp/lora128 --config.init_from_kwargs.path=/tmp/pre128
  python -m experiments.export_lora --workdir=/tmp/lora --out=/tmp/lora_merged.npz
  python -m experiments.train --config=dnabert_finetune:splice,lora --workdir=W \
      --config.init_from_kwargs.path=<a dnabert_pretrain:k=6 workdir>

A DNABERT encoder (``genereg_jax.models.language_heads``: one-hot DNA → overlapping
k-mers → ``LanguageModel`` encoder → head) initialised from a ``dnabert_pretrain``
workdir (``init_from=genereg_jax.train.finetune:load_base``; the MLM head is dropped,
the classification head is new) and trained on the framework's existing tasks with the
CNN configs' tasks and metrics, so one table compares them:

  tfbs      ``synthetic_motifs/tiny`` (200 bp, multi-label JASPAR motifs, as
            ``deepsea:tiny``/``basset:tiny``): [CLS] pooler head, ``multilabel_binary``
            (mean AUROC / AUPRC).
  splice    ``synthetic_splicing/tiny`` (280 nt in, 200 labelled, as
            ``spliceai_10k:tiny``): per-nucleotide head (each base the mean of the k-mers
            covering it), 40 nt cropped each side, ``splice_sites`` (top-k accuracy, PR-AUC).
  promoter  ``synthetic_promoters/tiny_eukaryote`` (251 bp, as ``cnnprom:tiny``): [CLS]
            head, ``promoter_classification`` (AUROC, Sn/Sp/MCC).

Fine-tuning modes (one token each; default ``full``):

  full      every parameter trains (DNABERT's recipe).
  frozen    the encoder is frozen (``optimizer.frozen``); only pooler + classifier train.
  lora      LoRA (Hu et al. 2021) rank 8, alpha 16, dropout 0.1 on the attention query
            and value projections; the head trains too.
  dora      DoRA (Liu et al. 2024): LoRA's low-rank update with each output unit's
            weight norm learnt apart (``genereg_jax.nn.adapters``); same targets, rank
            and rate as ``lora``.
  ia3       IA3 (Liu et al. 2022) on keys, values and the FFN inner activation; the head
            trains too.
  scratch   the same model from a random initialisation (the baseline).

``frozen``, ``lora``, ``dora`` and ``ia3`` checkpoints hold only the trained parameters and the
base's path with a SHA-256 fingerprint (``base_by_reference``; see
``genereg_jax.train.finetune``). Other tokens: ``tiny`` (the ``dnabert_tiny`` encoder:
k = 3, 2 layers of 32, 256 positions, matching ``dnabert_pretrain:tiny`` run with 256
tokens), ``tiny64`` / ``tiny128`` (the same recipe on the ``dnabert_tiny64`` /
``dnabert_tiny128`` encoder of ``dnabert_pretrain:tiny64`` / ``:tiny128``: 2 layers of
64 / 128, rotary), ``n=<examples>`` (train on the first N training examples:
``train_split="train[:N]"``, the few-label setting), ``rotary`` (rotary positions, for
a base pretrained with them). Tokens combine with commas:
``dnabert_finetune:splice,lora,tiny,n=500``.

The optimizer is DNABERT's fine-tuning recipe (README of github.com/jerryji1993/DNABERT:
AdamW, learning rate 2e-4, weight decay 0.01, 10% linear warm-up then linear decay,
batch 32, hidden dropout 0.1) with the new head at 10x the body's rate
(``optimizer.learning_rate_multipliers``; BERT fine-tuning recipes give the classifier
its own rate); adapters and a frozen trunk use 10x the rate throughout (Hu et al. tune
LoRA's rate separately), which puts their head at the same rate. ``tiny``: 5x the rate,
300 steps with 60 warm-up, and a head on the mean *and* the max of the tokens' vectors
(``pooling="mean_max"``); ``rotary`` matches a base pretrained with rotary positions.

Why this recipe (measured; README "Fine-tuning and adapters" has the tables): with
DNABERT's mean pool at one rate every fine-tuned run stayed at the labels' base-rate
loss, and pretraining lost to scratch (n=500 test AUROC 0.601 scratch vs 0.558 full,
0.557 LoRA). ``experiments.finetune_compare --diagnose`` on the rotary base (500
examples; standardised linear probe, test AUROC): the mean pool varies across examples by
only 0.05 (random encoder) / 0.08 (pretrained), std against values of 0.3-0.6, and it
mostly carries k-mer composition, which a random encoder passes on best (probe 0.670 vs
0.616 pretrained); the max pool is where pretraining shows (0.585 pretrained vs 0.505
random: a motif is present where some position holds it); the [CLS] vector, never
trained by the MLM, varies (std 0.83) but carries nothing (0.505). With this recipe
(``experiments.finetune_compare --variant=tiny,rotary``, 300 steps, 2-core CPU at load
13-35), test AUROC, n=500 seeds 0 / 1 and n=2000 seed 0 / 1: scratch 0.623 / 0.646 and
0.622 / 0.671, full 0.591 / 0.606 and 0.595 / 0.598, LoRA 0.560 / 0.549 and 0.557 / 0.554
(LoRA trains 6.5% of the parameters: the mean_max head is twice as wide).
Scratch and full fine-tuning gain 0.02-0.05 over the old recipe (LoRA none), but
**pretraining still loses** (full 0.03-0.07 below scratch in every pair, LoRA
0.06-0.12 below). With a max pool alone pretraining wins, but near chance (scratch
0.516, full 0.533); a frozen body (0.552 / 0.554) or one at DNABERT's 2e-4 (0.558 /
0.559) is worse than the body at 1e-3: this base has to be unlearnt; 600 steps at
n=2000 lift both and keep the gap (scratch 0.687, full 0.655). A base pretrained on
a genome that holds the task's grammar and per-element GC
(``data_builders.synthetic_motifs.genome``; README "Fourth proof") reads motifs better
(max-pool probe 0.612 vs 0.585; mean_max 0.648 vs 0.631 random) but fine-tunes worse,
n=500 seeds 0 / 1: full 0.572 / 0.568, LoRA 0.543 / 0.554 (LoRA 0.02 below full, 6.5%
of the parameters) against scratch 0.623 / 0.646. LP-FT (``experiments.finetune_compare
--lpft``: the head starts as a linear probe of the starting features) lifts full
fine-tuning from that base to 0.632 / 0.644, but scratch with LP-FT reaches 0.637 / 0.668:
under one recipe pretraining still loses, by 0.014 (inside the seed spread). A wider
base wins (README "Fifth proof"): ``dnabert_pretrain:tiny`` at hidden 64 / FFN 128 on
the grammar genome (3,000 steps; valid masked NLL 1.370, motif bases 1.211 vs
background 1.388), fine-tuned here with ``--config.model.hidden_size=64
--config.model.intermediate_size=128`` and LP-FT for both arms, test AUROC seeds 0 / 1:
n=100 scratch 0.598 / 0.614, pretrained 0.666 / 0.651; n=500 scratch 0.673 / 0.670,
pretrained 0.753 / 0.750. LoRA r = 2 on that encoder trains 3.6% of the parameters
(r = 4: 4.9%) and reaches 0.678 / 0.673 at n=500 (ties scratch, 0.077 below full).
At width 128 (``tiny128``, README "Sixth proof"; LP-FT, n=500, seeds 0 / 1) scratch
0.673 / 0.671, full 0.826 / 0.810, and adapters on every layer under 5% come within
0.04 of full: ``tiny128,all,lora`` (rank 2 + LayerNorms, 4.1%) 0.794 / 0.778,
``tiny128,all,dora`` (4.7%) 0.784 / 0.781, where query/value LoRA (1.9%) stays 0.077
below.
"""

from __future__ import annotations

import ml_collections

from experiments.configs import _base
from experiments.configs import model_config

from data_builders.synthetic_motifs import synthetic_motifs

TASKS = ("tfbs", "splice", "promoter")
MODES = ("full", "frozen", "lora", "dora", "ia3", "scratch")
#: Modes that train a low-rank update; with ``frozen`` and ``ia3``, the modes that train
#: only a few parameters (stored by reference, at 10x the rate).
LOW_RANK = ("lora", "dora")
FEW_PARAMETERS = ("frozen", *LOW_RANK, "ia3")
#: The new head: absent from the pretrained base, trained in every mode.
HEAD = ("^classifier/", "^pooler/")
#: The head's parameters, with or without an adapter wrapper's prefix.
HEAD_PATTERN = "(^|/)(classifier|pooler)/"
#: The encoder's parameter prefixes (frozen by ``:frozen``).
ENCODER = ("word_embeddings", "position_embeddings", "token_type_embeddings",
           "embeddings_norm", "encoder")
# Hu et al. adapt W_q and W_v; Liu et al. rescale keys, values and the FFN activation.
LORA_TARGETS = ("attention/query$", "attention/value$")
#: ``all``: every linear layer of the encoder (the LoRA paper's Sec. 7.1 asks which
#: matrices to adapt; on the tiny encoders all of them at rank 1-2 beat query/value at
#: the same budget, README "Sixth proof"), with the LayerNorms trained as well.
LORA_ALL_TARGETS = ("attention/(query|key|value|output)$", "mlp_(in|out)$")
NORMS = ("_norm/",)
IA3_TARGETS = ("attention/key$", "attention/value$")
IA3_INPUT_TARGETS = ("mlp_out$",)


def _parse(arg: str | None) -> dict:
  options = dict(task="tfbs", mode="full", tiny=False, wide=None, rotary=False,
                 examples=None, all=False)
  for token in filter(None, (arg or "").split(",")):
    if token in TASKS:
      options["task"] = token
    elif token in MODES:
      options["mode"] = token
    elif token in ("tiny", "rotary", "all"):
      options[token] = True
    elif token in ("tiny64", "tiny128"):  # The tiny recipe on a wider rotary encoder.
      options.update(tiny=True, wide=token)
    elif token.startswith("n=") and token[2:].isdigit():
      options["examples"] = int(token[2:])
    elif token != "default":
      raise ValueError(f"dnabert_finetune config: unknown variant {token!r}; valid: "
                       f"{', '.join(TASKS + MODES)}, tiny, tiny64, tiny128, rotary, all, "
                       "n=<examples>, "
                       "comma-separated")
  if options["all"] and options["mode"] not in LOW_RANK:
    raise ValueError("dnabert_finetune config: 'all' (adapt every linear layer) needs mode "
                     f"lora or dora, not {options['mode']!r}")
  return options


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
  options = _parse(arg)
  task, mode = options["task"], options["mode"]
  preset = ("dnabert_" + options["wide"] if options["wide"] else
            "dnabert_tiny" if options["tiny"] else "dnabert")
  if task == "tfbs":
    dataset, task_name = "synthetic_motifs/tiny", "multilabel_binary"
    task_fields = dict(label_names=synthetic_motifs.LABEL_NAMES)
    model = dict(num_outputs=len(synthetic_motifs.LABEL_NAMES), level="sequence")
    best = "valid/auroc"
  elif task == "splice":
    dataset, task_name, task_fields = "synthetic_splicing/tiny", "splice_sites", {}
    model = dict(num_outputs=3, level="base", crop=40)  # 280 nt in, 200 labelled.
    best = "valid/top_k_accuracy"
  else:
    dataset, task_name, task_fields = ("synthetic_promoters/tiny_eukaryote",
                                       "promoter_classification", {})
    model = dict(num_outputs=1, level="sequence")
    best = "valid/auroc"
  # DNABERT's fine-tuning (README): AdamW 2e-4, decay 0.01, 10% warm-up, batch 32.
  steps = 300 if options["tiny"] else 1250
  config = _base.base_config(
      dataset=dataset, model_name="language_heads", model_preset=preset,
      # Every encoder field, so a base pretrained with other settings (rotary
      # positions, another position table) is matched from the command line.
      model=model_config("language_heads", preset, **model),
      task_name=task_name, task=task_fields, batch_size=32, eval_batch_size=128,
      optimizer=dict(name="adamw", learning_rate=2e-4, weight_decay=0.01,
                     schedule="linear", warmup_steps=steps // 10,
                     end_learning_rate_factor=0.0, clip_norm=1.0),
      num_train_steps=steps, log_every_steps=50, eval_every_steps=steps // 2,
      checkpoint_every_steps=steps // 2, best_metric=best)
  if options["rotary"]:  # A base pretrained with rotary positions (ESM-2's).
    config.model.position_embedding_type = "rotary"
  if options["tiny"]:
    config.optimizer.update(learning_rate=config.optimizer.learning_rate * 5,
                            warmup_steps=60)  # 20%: the measured runs (docstring).
    # A 29k-parameter encoder: no 1k-parameter pooler, and LoRA rank 2, keep adapters +
    # head under 5% of the parameters, as rank 8 does at DNABERT's size. The head reads
    # the mean and the max of the tokens' vectors: a motif is present if some position
    # holds it (a max, as a CNN's global pooling), and the mean alone varies too little
    # across examples to learn from (docstring).
    if task != "splice":
      config.model.pooling = "mean_max"
    config.adapters.update(rank=2, alpha=4.0)
  if options["examples"]:
    config.train_split = f"train[:{options['examples']}]"

  # The pretrained base: a dnabert_pretrain workdir (its MLM head dropped).
  config.init_from = "genereg_jax.train.finetune:load_base"
  config.init_from_kwargs = ml_collections.ConfigDict(dict(
      path=ml_collections.FieldReference(None, str), drop=("lm_head",)))
  config.init_from_keep = HEAD
  config.adapters.update(dropout_rate=0.1, train=HEAD)  # Hu et al.'s LoRA dropout.
  config.base_by_reference = mode in FEW_PARAMETERS
  if mode == "scratch":
    config.init_from = ""
  elif mode == "frozen":
    config.optimizer.frozen = ENCODER
  elif mode in LOW_RANK:
    config.adapters.update(kind=mode, targets=LORA_TARGETS)
    if options["all"]:
      # Rank 1 / 2 keeps the 2 x 64 / 2 x 128 encoders' trained share near 4-5%.
      rank = 1 if options["wide"] == "tiny64" else config.adapters.rank
      config.adapters.update(targets=LORA_ALL_TARGETS, train=HEAD + NORMS, rank=rank,
                             alpha=2.0 * rank)
  elif mode == "ia3":
    config.adapters.update(kind="ia3", targets=IA3_TARGETS, input_targets=IA3_INPUT_TARGETS)
  # The new head learns at 10x the body's rate (BERT fine-tuning recipes give the
  # classifier its own, larger rate): at the body's rate it stays at the labels' base
  # rates. Head-only and adapter modes train at 10x throughout (Hu et al. tune LoRA's
  # rate separately), which puts their head at the same rate.
  if mode in FEW_PARAMETERS:
    config.optimizer.learning_rate *= 10
  else:
    config.optimizer.learning_rate_multipliers = ((HEAD_PATTERN, 10.0),)
  return config
