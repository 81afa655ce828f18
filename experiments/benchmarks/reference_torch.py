r"""Time one side of ``reference_compare``: the PyTorch references.

  /work/bench-venv/bin/python -m experiments.benchmarks.reference_torch --model=deepsea

Runs in the benchmark venv (torch and the reference packages; see the README) and
imports neither JAX, flax nor genereg_jax: only numpy, ``reference_inputs`` and
``timing``. Prints one JSON line: parameters, the first eager train step, train and
inference step times (``timing.measure``: warm-up to steady state, then median and IQR),
torch's own float32 2048 x 2048 matmul rate and peak RSS.

  train      ``zero_grad`` / loss / ``backward`` / ``Adam.step`` (lr 1e-3, torch's
             defaults otherwise), ``model.train()``.
  inference  forward + predictions + loss in ``model.eval()`` under
             ``torch.inference_mode()``.
"""

from __future__ import annotations

import os
import resource

import numpy as np

from experiments.benchmarks import reference_inputs as inputs
from experiments.benchmarks import timing


def _rss_mb() -> float:
  with open("/proc/self/statm") as f:
    return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def deepsea_module(torch):
  """DeepSEA as published (Zhou & Troyanskaya 2015), plain PyTorch, written here.

  Same layers as ``genereg_jax.models.deepsea``: conv 320/480/960 x 8 (valid), ReLU,
  max-pool 4 after the first two, dropout 0.2/0.2/0.5, dense 925 ReLU, 919 logits.
  """
  nn = torch.nn
  length = ((1000 - 7) // 4 - 7) // 4 - 7  # 53
  return nn.Sequential(
      nn.Conv1d(4, 320, 8), nn.ReLU(), nn.MaxPool1d(4, 4), nn.Dropout(0.2),
      nn.Conv1d(320, 480, 8), nn.ReLU(), nn.MaxPool1d(4, 4), nn.Dropout(0.2),
      nn.Conv1d(480, 960, 8), nn.ReLU(), nn.Dropout(0.5),
      nn.Flatten(), nn.Linear(960 * length, 925), nn.ReLU(),
      nn.Linear(925, inputs.DEEPSEA_OUTPUTS))


def danq_module(torch):
  """DanQ as published (Quang & Xie 2016), plain PyTorch, written here.

  conv 320 x 26 (valid) ReLU -> max-pool 13 -> dropout 0.2 -> BiLSTM 320 per
  direction over the 75 steps -> dropout 0.5 -> dense 925 ReLU -> 919 logits.
  """
  nn = torch.nn

  class DanQ(nn.Module):

    def __init__(self):
      super().__init__()
      self.motifs = nn.Sequential(nn.Conv1d(4, 320, 26), nn.ReLU(), nn.MaxPool1d(13, 13),
                                  nn.Dropout(0.2))
      self.bilstm = nn.LSTM(320, 320, batch_first=True, bidirectional=True)
      self.classifier = nn.Sequential(
          nn.Dropout(0.5), nn.Flatten(), nn.Linear(75 * 640, 925), nn.ReLU(),
          nn.Linear(925, inputs.DEEPSEA_OUTPUTS))

    def forward(self, x):  # [batch, 4, 1000]
      h, _ = self.bilstm(self.motifs(x).transpose(1, 2))
      return self.classifier(h)

  return DanQ()


def setup(model: str, torch, batch: dict[str, np.ndarray]):
  """``(module, implementation, train_loss(), inference())`` for the reference."""
  F = torch.nn.functional
  t = {k: torch.from_numpy(v) for k, v in batch.items()}
  if model in ("deepsea", "danq"):
    module = deepsea_module(torch) if model == "deepsea" else danq_module(torch)
    x = t["sequence"].transpose(1, 2).contiguous()  # [batch, 4, 1000]
    labels = t["label"]

    def train_loss():
      return F.binary_cross_entropy_with_logits(module(x), labels)

    def inference():
      logits = module(x)
      return torch.sigmoid(logits), F.binary_cross_entropy_with_logits(logits, labels)

    return (module, f"plain PyTorch {model} (published architecture, written in "
            "reference_torch.py; selene-sdk ships none)", train_loss, inference)
  if model == "enformer":
    import enformer_pytorch
    from enformer_pytorch.modeling_enformer import poisson_loss
    module = enformer_pytorch.Enformer.from_hparams(**inputs.ENFORMER)
    x, target = t["sequence"], t["target"]  # enformer-pytorch takes [batch, length, 4].

    def train_loss():
      return module(x, head="human", target=target)

    def inference():
      predictions = module(x, head="human")
      return predictions, poisson_loss(predictions, target)

    from importlib import metadata
    return (module, f"enformer-pytorch {metadata.version('enformer-pytorch')}",
            train_loss, inference)
  import bpnetlite
  from bpnetlite.losses import _mixture_loss
  module = bpnetlite.BPNet(n_filters=64, n_layers=8, n_outputs=2, verbose=False)
  x = t["sequence"].transpose(1, 2).contiguous()  # [batch, 4, 2114]
  control = t["control"].transpose(1, 2).contiguous()  # [batch, 2, 2114]
  profile = t["profile"].transpose(1, 2).contiguous()  # [batch, 2, 1000]

  def train_loss():
    logits, log_counts = module(x, control)
    return _mixture_loss(profile, logits, log_counts, module.count_loss_weight)[2]

  def inference():
    logits, log_counts = module(x, control)
    probs = torch.softmax(logits.reshape(logits.shape[0], -1), dim=-1)
    return probs, _mixture_loss(profile, logits, log_counts, module.count_loss_weight)[2]

  return module, f"bpnet-lite {bpnetlite.__version__}", train_loss, inference


def matmul_rate(torch, size: int = 2048, reps: int = 10) -> dict:
  """torch's float32 ``size x size`` matmul FLOP/s, median of ``reps`` (as the JAX peak)."""
  a, b = torch.randn(size, size), torch.randn(size, size)
  torch.matmul(a, b)
  times = timing.time_steps(lambda: torch.matmul(a, b), lambda r: None, reps)
  median = float(np.median(times))
  return {"size": size, "reps": reps, "median_s": median,
          "flops_per_s": 2.0 * size**3 / median}


def run(model: str, quick: bool = False) -> dict:
  import torch

  import_rss = _rss_mb()
  torch.manual_seed(0)
  n = inputs.batch_size(model, quick)
  module, implementation, train_loss, inference = setup(
      model, torch, inputs.make_batch(model, n))
  optimizer = torch.optim.Adam(module.parameters(), lr=inputs.LEARNING_RATE,
                               betas=(0.9, 0.999), eps=1e-8)
  module.train()

  def one_train_step():
    optimizer.zero_grad(set_to_none=True)
    loss = train_loss()
    loss.backward()
    optimizer.step()
    return loss.detach()

  # Eager: the result is ready when the call returns; float() makes that explicit.
  sync = lambda out: float(out[-1] if isinstance(out, tuple) else out)
  first = timing.time_steps(one_train_step, sync, 1)[0]
  train = timing.measure(one_train_step, sync, **inputs.steps(quick))
  module.eval()
  with torch.inference_mode():
    first_inference = timing.time_steps(inference, sync, 1)[0]
    infer = timing.measure(inference, sync, **inputs.steps(quick))
  for what in (train, infer):
    what["examples_per_s"] = n / what["median_s"]
  return {
      "side": "torch", "framework": f"torch {torch.__version__}", "model": model,
      "implementation": implementation,
      "parameters": int(sum(p.numel() for p in module.parameters())),
      "batch_size": n, "platform": "cpu", "threads": torch.get_num_threads(),
      "first_train_step_s": first, "first_inference_s": first_inference,
      "train": train, "inference": infer, "torch_matmul": matmul_rate(torch),
      "import_rss_mb": import_rss,
      "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
  }


def main(argv=None) -> None:
  inputs.side_main(run, __doc__, argv)


if __name__ == "__main__":
  main()
