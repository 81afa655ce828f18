"""Prepare step of ``reference_compare``: the compared configurations and their batch.

Numpy only, imported by both sides (the PyTorch side runs without JAX). Comparisons
(published configs):

  deepsea   batch 64, 1,000 bp, 919 outputs. Reference: a plain PyTorch module of
            the published architecture (``reference_torch``; selene-sdk 0.6.0 on PyPI
            ships no DeepSEA, see the README).
  danq      the same for DanQ (conv 320x26, pool 13, BiLSTM 320, dense 925). LSTM
            gates are the logistic sigmoid on both sides (torch.nn.LSTM has no hard
            sigmoid; ours defaults to Keras' hard sigmoid of the released model).
  enformer  dim 384, depth 4, heads 8, 24,576 bp -> 192 bins cropped to 160, heads
            human 5,313 / mouse 1,643, batch 2, human head trained with the Poisson
            loss; reference ``enformer_pytorch.Enformer.from_hparams``.
  bpnet     64 filters, 8 layers, 2 stranded outputs, 2 control tracks, 2,114 bp in ->
            1,000 bp out, batch 64; MNLL over both strands + 1 x log-count MSE;
            reference ``bpnetlite.BPNet`` with ``bpnetlite.losses._mixture_loss``
            (what ``BPNet.fit`` minimises).

``--quick`` keeps every model's size and shrinks only the batch (and the step counts,
see ``steps``), so the table machinery runs in minutes.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable

import numpy as np

from experiments.benchmarks import timing

MODELS = ("deepsea", "danq", "enformer", "bpnet")
BATCH_SIZE = {"deepsea": 64, "danq": 64, "enformer": 2, "bpnet": 64}
QUICK_BATCH_SIZE = {"deepsea": 4, "danq": 4, "enformer": 1, "bpnet": 4}

DEEPSEA_OUTPUTS = 919
ENFORMER = dict(dim=384, depth=4, heads=8, target_length=160,
                output_heads={"human": 5313, "mouse": 1643})
ENFORMER_LENGTH = 24_576  # 192 bins of 128 bp; cropped to 160.
BPNET_LENGTH, BPNET_OUT = 2114, 1000
LEARNING_RATE = 1e-3


def batch_size(model: str, quick: bool = False) -> int:
  check_model(model)
  return (QUICK_BATCH_SIZE if quick else BATCH_SIZE)[model]


def steps(quick: bool = False) -> dict:
  """Timed steps and warm-up cap of each side (``timing.measure`` arguments)."""
  return dict(steps=3, max_warmup=6) if quick else dict(
      steps=timing.TIMED_STEPS, max_warmup=timing.MAX_WARMUP)


def check_model(model: str) -> None:
  if model not in MODELS:
    raise ValueError(f"unknown model {model!r}; valid: {','.join(MODELS)}")


def make_batch(model: str, batch_size: int, seed: int = 0) -> dict[str, np.ndarray]:
  """Random one-hot sequences and targets of the model's shapes, channels-last."""
  check_model(model)
  rng = np.random.default_rng(seed)

  def one_hot(length):
    return np.eye(4, dtype=np.float32)[rng.integers(0, 4, (batch_size, length))]

  if model in ("deepsea", "danq"):
    return {"sequence": one_hot(1000),
            "label": rng.integers(0, 2, (batch_size, DEEPSEA_OUTPUTS)).astype(np.float32)}
  if model == "enformer":
    return {"sequence": one_hot(ENFORMER_LENGTH),
            "target": rng.gamma(1.0, 1.0, (batch_size, ENFORMER["target_length"],
                                           ENFORMER["output_heads"]["human"])
                                ).astype(np.float32)}
  return {"sequence": one_hot(BPNET_LENGTH),
          "control": rng.poisson(0.2, (batch_size, BPNET_LENGTH, 2)).astype(np.float32),
          "profile": rng.poisson(0.5, (batch_size, BPNET_OUT, 2)).astype(np.float32)}


def side_main(run: Callable[[str, bool], dict], doc: str, argv=None) -> None:
  """The command line of one side (``reference_jax`` / ``reference_torch``): one JSON line."""
  parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
  parser.add_argument("--model", required=True, choices=MODELS)
  parser.add_argument("--quick", action="store_true", help="small batch, few steps")
  args = parser.parse_args(argv)
  print(json.dumps(run(args.model, args.quick)), flush=True)
