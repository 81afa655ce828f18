r"""DNABERT fine-tuning (Ji et al., Bioinformatics 2021): full, frozen trunk, LoRA, IA3.

  python -m experiments.train --config=dnabert_pretrain:tiny --workdir=/tmp/dnabert_pre \
      --config.dataset.max_tokens=256 --config.model.max_position_embeddings=256
  python -m experiments.train --config=dnabert_finetune:tiny,n=500 --workdir=/tmp/ft \
      --config.init_from_kwargs.path=/tmp/dnabert_pre
  python -m experiments.train --config=dnabert_finetune:tiny,n=500,lora --workdir=/tmp/lora \
      --config.init_from_kwargs.path=/tmp/dnabert_pre
  python -m experiments.train --config=dnabert_finetune:tiny,n=500,scratch --workdir=/tmp/s
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
  ia3       IA3 (Liu et al. 2022) on keys, values and the FFN inner activation; the head
            trains too.
  scratch   the same model from a random initialisation (the baseline).

``frozen``, ``lora`` and ``ia3`` checkpoints hold only the trained parameters and the
base's path with a SHA-256 fingerprint (``base_by_reference``; see
``genereg_jax.train.finetune``). Other tokens: ``tiny`` (the ``dnabert_tiny`` encoder:
k = 3, 2 layers of 32, 256 positions, matching ``dnabert_pretrain:tiny`` run with 256
tokens), ``n=<examples>`` (train on the first N training examples:
``train_split="train[:N]"``, the few-label setting). Tokens combine with commas:
``dnabert_finetune:splice,lora,tiny,n=500``.

The optimizer is DNABERT's fine-tuning recipe (README of github.com/jerryji1993/DNABERT:
AdamW, learning rate 2e-4, weight decay 0.01, 10% linear warm-up then linear decay,
batch 32, hidden dropout 0.1); adapters and a frozen trunk use 10x the rate (Hu et al.
tune LoRA's rate separately; a head alone needs more), the tiny encoder 5x.
Measured (README "Fine-tuning and adapters"; 2-core CPU at load 40-50, seed 0):
``:tiny,n=500,<mode>`` from a 1,500-step ``dnabert_pretrain:tiny`` base (test masked
NLL 3.89 nats vs 4.16 uniform), 300 steps, test AUROC: scratch 0.590, full 0.539,
frozen 0.571, lora 0.567 (3.3% of parameters trained), ia3 0.574. This base is too
weakly pretrained for fine-tuning to beat scratch; checkpoint state 470,020 bytes full
vs 124,156 LoRA by reference (step 300). From a base pretrained on the genome that
plants this task's JASPAR motifs (rotary, 128-token windows, 4,000 steps, 6.8 min at
load ~3; masked NLL 1.43 vs unigram 4.13), fine-tuned with
``--config.model.position_embedding_type=rotary`` for 600 steps (3-5 min each at load
3-10), test AUROC: scratch 0.601, full 0.558, LoRA 0.557; at 5x / 10x the rate scratch
0.588 / 0.541, full 0.544 / 0.509; n=100 scratch 0.575, full 0.542: pretraining still
loses. Every run but LoRA stays at the labels' base-rate loss (the mean-pooled vector
barely varies across examples), and a linear probe prefers the random encoder's pools
(0.676) to the pretrained ones (0.614-0.630); README "Fine-tuning and adapters" has the
table.
"""

from __future__ import annotations

import ml_collections

from experiments.configs import _base
from experiments.configs import model_config

from data_builders.synthetic_motifs import synthetic_motifs

TASKS = ("tfbs", "splice", "promoter")
MODES = ("full", "frozen", "lora", "ia3", "scratch")
#: The new head: absent from the pretrained base, trained in every mode.
HEAD = ("^classifier/", "^pooler/")
#: The encoder's parameter prefixes (frozen by ``:frozen``).
ENCODER = ("word_embeddings", "position_embeddings", "token_type_embeddings",
           "embeddings_norm", "encoder")
# Hu et al. adapt W_q and W_v; Liu et al. rescale keys, values and the FFN activation.
LORA_TARGETS = ("attention/query$", "attention/value$")
IA3_TARGETS = ("attention/key$", "attention/value$")
IA3_INPUT_TARGETS = ("mlp_out$",)


def _parse(arg: str | None) -> dict:
  options = dict(task="tfbs", mode="full", tiny=False, examples=None)
  for token in filter(None, (arg or "").split(",")):
    if token in TASKS:
      options["task"] = token
    elif token in MODES:
      options["mode"] = token
    elif token == "tiny":
      options["tiny"] = True
    elif token.startswith("n=") and token[2:].isdigit():
      options["examples"] = int(token[2:])
    elif token != "default":
      raise ValueError(f"dnabert_finetune config: unknown variant {token!r}; valid: "
                       f"{', '.join(TASKS + MODES)}, tiny, n=<examples>, comma-separated")
  return options


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
  options = _parse(arg)
  task, mode = options["task"], options["mode"]
  preset = "dnabert_tiny" if options["tiny"] else "dnabert"
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
  steps = 600 if options["tiny"] else 1250
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
  if options["tiny"]:
    config.optimizer.learning_rate *= 5
    # A 29k-parameter encoder: a mean-pool head (no 1k-parameter pooler) and LoRA rank 2
    # keep adapters + head under 5% of the parameters, as rank 8 does at DNABERT's size.
    if task != "splice":
      config.model.pooling = "mean"
    config.adapters.update(rank=2, alpha=4.0)
  if options["examples"]:
    config.train_split = f"train[:{options['examples']}]"

  # The pretrained base: a dnabert_pretrain workdir (its MLM head dropped).
  config.init_from = "genereg_jax.train.finetune:load_base"
  config.init_from_kwargs = ml_collections.ConfigDict(dict(
      path=ml_collections.FieldReference(None, str), drop=("lm_head",)))
  config.init_from_keep = HEAD
  config.adapters.update(dropout_rate=0.1, train=HEAD)  # Hu et al.'s LoRA dropout.
  config.base_by_reference = mode in ("frozen", "lora", "ia3")
  if mode == "scratch":
    config.init_from = ""
  elif mode == "frozen":
    config.optimizer.frozen = ENCODER
  elif mode == "lora":
    config.adapters.update(kind="lora", targets=LORA_TARGETS)
  elif mode == "ia3":
    config.adapters.update(kind="ia3", targets=IA3_TARGETS, input_targets=IA3_INPUT_TARGETS)
  if mode in ("frozen", "lora", "ia3"):
    config.optimizer.learning_rate *= 10
  return config
