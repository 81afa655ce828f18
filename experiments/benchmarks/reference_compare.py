r"""Train-step and inference speed of our models against their PyTorch references.

  python -m experiments.benchmarks.reference_compare                     # all four, ~10 min
  python -m experiments.benchmarks.reference_compare --models=deepsea,bpnet --output=r.json

Run it from the repository root with the project's Python (JAX side). The PyTorch side
runs in a separate virtual environment that holds torch and the reference packages
(never a dependency of genereg_jax; see ``experiments/benchmarks/README.md`` for the
exact install), passed as ``--torch_python`` (default ``/work/bench-venv/bin/python``).

For each model the driver starts two fresh processes back to back, JAX first, then
PyTorch, so that both see the same machine load and each reports its own peak RSS.
Both sides get the same random batch (same seed, each in its native layout: JAX
channels-last, PyTorch channels-first) and time, after warm-up:

  train      forward + backward + Adam update (lr 1e-3, no clipping, no schedule);
             JAX: the trainer's own jitted step (``Experiment.jit_train_steps``, state
             donated); PyTorch: ``zero_grad`` / loss / ``backward`` / ``Adam.step``.
  inference  forward in inference mode + predictions + loss; JAX: the trainer's
             jitted eval step; PyTorch: ``model.eval()`` under ``torch.inference_mode``.

Comparisons (published configs):

  deepsea   batch 64, 1,000 bp, 919 outputs. Reference: a plain PyTorch module of
            the published architecture written in this file (selene-sdk 0.6.0 on
            PyPI ships no DeepSEA; see the README).
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

Reported per side: parameters, examples/s (train, inference), the first train step
(JAX: XLA compile, then the first call; PyTorch: the first eager step), XLA's temp
buffer sizes (JAX) and the process's peak RSS (both; it includes the framework's own
import footprint, also reported).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time

import numpy as np

MODELS = ("deepsea", "danq", "enformer", "bpnet")

# Per model: batch size and (warm-up, timed) steps for train and inference. DanQ's
# BiLSTM and Enformer are slow on a 2-core CPU, so they get fewer steps.
SETTINGS = {
    "deepsea": dict(batch_size=64, warmup=2, train_steps=8, infer_steps=8),
    "danq": dict(batch_size=64, warmup=1, train_steps=3, infer_steps=4),
    "enformer": dict(batch_size=2, warmup=1, train_steps=4, infer_steps=4),
    "bpnet": dict(batch_size=64, warmup=1, train_steps=5, infer_steps=5),
}

DEEPSEA_OUTPUTS = 919
ENFORMER = dict(dim=384, depth=4, heads=8, target_length=160,
                output_heads={"human": 5313, "mouse": 1643})
ENFORMER_LENGTH = 24_576  # 192 bins of 128 bp; cropped to 160.
BPNET_LENGTH, BPNET_OUT = 2114, 1000
LEARNING_RATE = 1e-3


def _rss_mb() -> float:
  """Current resident set size of this process."""
  with open("/proc/self/statm") as f:
    return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _peak_rss_mb() -> float:
  return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux.


# ----------------------------------------------------------------------------------
# The shared batch, channels-last (JAX layout).
# ----------------------------------------------------------------------------------


def make_batch(model: str, batch_size: int, seed: int = 0) -> dict[str, np.ndarray]:
  """Random one-hot sequences and targets of the model's shapes, channels-last."""
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
  if model == "bpnet":
    return {"sequence": one_hot(BPNET_LENGTH),
            "control": rng.poisson(0.2, (batch_size, BPNET_LENGTH, 2)).astype(np.float32),
            "profile": rng.poisson(0.5, (batch_size, BPNET_OUT, 2)).astype(np.float32)}
  raise ValueError(f"unknown model {model!r}; valid: {MODELS}")


def _step_times(fn, steps: int, sync) -> list[float]:
  """Seconds of each of ``steps`` calls, waiting for each result."""
  times = []
  for _ in range(steps):
    start = time.perf_counter()
    sync(fn())
    times.append(time.perf_counter() - start)
  return times


def _rates(prefix: str, times: list[float], batch_size: int) -> dict:
  """examples/s from the median step (robust to a loaded machine) and from the mean."""
  return {f"{prefix}_examples_per_s": batch_size / float(np.median(times)),
          f"{prefix}_examples_per_s_mean": batch_size * len(times) / float(np.sum(times)),
          f"{prefix}_step_s": [round(t, 4) for t in times]}


# ----------------------------------------------------------------------------------
# JAX side: the trainer's own jitted steps on the experiment configs.
# ----------------------------------------------------------------------------------


def jax_config(model: str):
  """The experiment config of ``model`` at the compared size, Adam without clipping."""
  import ml_collections
  from experiments import configs

  name = {"deepsea": "deepsea", "danq": "danq", "enformer": "enformer_human_mouse",
          "bpnet": "bpnet"}[model]
  config = configs.get_config(name)
  with config.unlocked():
    config.batch_size = SETTINGS[model]["batch_size"]
    config.optimizer = ml_collections.ConfigDict(dict(
        name="adam", learning_rate=LEARNING_RATE, schedule="constant", warmup_steps=0,
        clip_norm=0.0, b1=0.9, b2=0.999, eps=1e-8, weight_decay=0.0, grad_accum_steps=1))
    if model in ("deepsea", "danq"):
      config.model.num_outputs = DEEPSEA_OUTPUTS
      config.task.label_names = ()
      if model == "danq":
        config.model.gate_activation = "sigmoid"  # As torch.nn.LSTM.
    elif model == "enformer":
      config.model_preset = "paper"
      config.model = ml_collections.ConfigDict(dict(remat=False, **ENFORMER))
    elif model == "bpnet":
      # bpnet-lite's BPNet(n_filters=64, n_layers=8, n_outputs=2): one total count,
      # default trim 557 (2,114 -> 1,000); its count_loss_weight defaults to 1.
      config.model_preset = "bpnet_lite"
      config.model = ml_collections.ConfigDict(dict(
          n_filters=64, n_layers=8, n_outputs=2, n_count_outputs=1, n_control_tracks=2))
      config.task = ml_collections.ConfigDict(dict(count_weight=1.0, tracks_per_task=2))
  return config


def run_jax(model: str) -> dict:
  import jax
  import jax.numpy as jnp
  from experiments import benchmarks
  from genereg_jax.train import trainer

  import_rss = _rss_mb()
  settings = SETTINGS[model]
  config = jax_config(model)
  experiment = trainer.Experiment(config)
  head = experiment.heads[0]  # Enformer: "human".
  batch_np = make_batch(model, config.batch_size)
  # Sequences as the datasets store them (uint8 one-hot); the model casts.
  batch_np["sequence"] = batch_np["sequence"].astype(np.uint8)
  example = {k: v[0] for k, v in batch_np.items()}
  state, batch, train_step, eval_step = benchmarks.trainer_steps(experiment, example, batch_np)

  start = time.perf_counter()
  compiled_train = train_step.lower(state, batch).compile()
  train_compile = time.perf_counter() - start
  holder = {"state": state}

  def one_train_step():
    holder["state"], metrics = compiled_train(holder["state"], batch)
    return metrics["loss"]

  start = time.perf_counter()
  first_loss = float(one_train_step())
  first_step = time.perf_counter() - start
  for _ in range(settings["warmup"] - 1):
    jax.block_until_ready(one_train_step())
  before_steps_rss = _rss_mb()
  train_times = _step_times(one_train_step, settings["train_steps"], jax.block_until_ready)

  params, batch_stats = holder["state"].params, holder["state"].batch_stats
  start = time.perf_counter()
  compiled_eval = eval_step.lower(params, batch_stats, batch).compile()
  eval_compile = time.perf_counter() - start
  for _ in range(settings["warmup"]):
    jax.block_until_ready(compiled_eval(params, batch_stats, batch))
  eval_times = _step_times(lambda: compiled_eval(params, batch_stats, batch)[1],
                          settings["infer_steps"], jax.block_until_ready)

  memory = compiled_train.memory_analysis()
  eval_memory = compiled_eval.memory_analysis()
  n = config.batch_size
  return {
      "side": "jax", "framework": f"jax {jax.__version__}", "model": model,
      "implementation": f"genereg_jax ({config.model_name}, trainer jit step)",
      "parameters": int(sum(np.prod(x.shape) for x in jax.tree.leaves(params))),
      "batch_size": n, "platform": jax.devices()[0].platform,
      "devices": jax.device_count(), "threads": os.cpu_count(),
      "first_loss": first_loss,
      **_rates("train", train_times, n), **_rates("inference", eval_times, n),
      "train_compile_s": train_compile, "first_train_step_s": first_step,
      "inference_compile_s": eval_compile,
      "train_temp_mb": getattr(memory, "temp_size_in_bytes", 0) / 2**20,
      "inference_temp_mb": getattr(eval_memory, "temp_size_in_bytes", 0) / 2**20,
      "import_rss_mb": import_rss, "rss_before_timed_steps_mb": before_steps_rss,
      "peak_rss_mb": _peak_rss_mb(),
      "steps": dict(warmup=settings["warmup"], train=settings["train_steps"],
                    inference=settings["infer_steps"]),
  }


# ----------------------------------------------------------------------------------
# PyTorch side (bench venv only; nothing here is imported by genereg_jax).
# ----------------------------------------------------------------------------------


def torch_deepsea(torch):
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
      nn.Linear(925, DEEPSEA_OUTPUTS))


def torch_danq(torch):
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
          nn.Linear(925, DEEPSEA_OUTPUTS))

    def forward(self, x):  # [batch, 4, 1000]
      h, _ = self.bilstm(self.motifs(x).transpose(1, 2))
      return self.classifier(h)

  return DanQ()


def torch_setup(model: str, torch, batch: dict[str, np.ndarray]):
  """``(module, implementation, inputs, train_loss(), inference())`` for the reference."""
  F = torch.nn.functional
  t = {k: torch.from_numpy(v) for k, v in batch.items()}
  if model in ("deepsea", "danq"):
    module = torch_deepsea(torch) if model == "deepsea" else torch_danq(torch)
    x = t["sequence"].transpose(1, 2).contiguous()  # [batch, 4, 1000]
    labels = t["label"]

    def train_loss():
      return F.binary_cross_entropy_with_logits(module(x), labels)

    def inference():
      logits = module(x)
      return torch.sigmoid(logits), F.binary_cross_entropy_with_logits(logits, labels)

    return (module, f"plain PyTorch {model} (published architecture, written in this "
            "file; selene-sdk ships none)", train_loss, inference)
  if model == "enformer":
    import enformer_pytorch
    from enformer_pytorch.modeling_enformer import poisson_loss
    module = enformer_pytorch.Enformer.from_hparams(**ENFORMER)
    x, target = t["sequence"], t["target"]  # enformer-pytorch takes [batch, length, 4].

    def train_loss():
      return module(x, head="human", target=target)

    def inference():
      predictions = module(x, head="human")
      return predictions, poisson_loss(predictions, target)

    from importlib import metadata
    return (module, f"enformer-pytorch {metadata.version('enformer-pytorch')}",
            train_loss, inference)
  if model == "bpnet":
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
  raise ValueError(f"unknown model {model!r}; valid: {MODELS}")


def run_torch(model: str) -> dict:
  import torch

  import_rss = _rss_mb()
  torch.manual_seed(0)
  settings = SETTINGS[model]
  n = settings["batch_size"]
  batch = make_batch(model, n)
  module, implementation, train_loss, inference = torch_setup(model, torch, batch)
  optimizer = torch.optim.Adam(module.parameters(), lr=LEARNING_RATE, betas=(0.9, 0.999),
                               eps=1e-8)
  module.train()

  def one_train_step():
    optimizer.zero_grad(set_to_none=True)
    loss = train_loss()
    loss.backward()
    optimizer.step()
    return loss.detach()

  sync = lambda loss: float(loss[-1] if isinstance(loss, tuple) else loss)
  start = time.perf_counter()
  first_loss = float(one_train_step())
  first_step = time.perf_counter() - start
  for _ in range(settings["warmup"] - 1):
    one_train_step()
  before_steps_rss = _rss_mb()
  train_times = _step_times(one_train_step, settings["train_steps"], sync)

  module.eval()
  with torch.inference_mode():
    start = time.perf_counter()
    inference()
    first_inference = time.perf_counter() - start
    for _ in range(settings["warmup"] - 1):
      inference()
    eval_times = _step_times(inference, settings["infer_steps"], sync)
  return {
      "side": "torch", "framework": f"torch {torch.__version__}", "model": model,
      "implementation": implementation,
      "parameters": int(sum(p.numel() for p in module.parameters())),
      "batch_size": n, "platform": "cpu", "threads": torch.get_num_threads(),
      "first_loss": first_loss,
      **_rates("train", train_times, n), **_rates("inference", eval_times, n),
      "first_train_step_s": first_step, "first_inference_s": first_inference,
      "import_rss_mb": import_rss, "rss_before_timed_steps_mb": before_steps_rss,
      "peak_rss_mb": _peak_rss_mb(),
      "steps": dict(warmup=settings["warmup"], train=settings["train_steps"],
                    inference=settings["infer_steps"]),
  }


# ----------------------------------------------------------------------------------
# Driver: one fresh process per (model, side), back to back.
# ----------------------------------------------------------------------------------


def _child(python: str, model: str, side: str, timeout: float) -> dict:
  command = [python, "-m", "experiments.benchmarks.reference_compare", f"--side={side}",
             f"--models={model}"]
  repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
  start = time.perf_counter()
  try:
    done = subprocess.run(command, cwd=repo, capture_output=True, text=True,
                          timeout=timeout)
  except subprocess.TimeoutExpired:
    return {"side": side, "model": model, "error": f"timed out after {timeout:.0f} s"}
  lines = [l for l in done.stdout.splitlines() if l.startswith("{")]
  if done.returncode or not lines:
    tail = (done.stderr or done.stdout).strip().splitlines()[-5:]
    return {"side": side, "model": model,
            "error": f"exit {done.returncode}: " + " | ".join(tail)}
  result = json.loads(lines[-1])
  result["process_wall_s"] = time.perf_counter() - start
  return result


def _median(values) -> float:
  return float(np.median(values))


def _summary(results: list[dict]) -> str:
  """A table of medians over rounds per (model, side) and the JAX / reference ratios."""
  by_model: dict[str, dict[str, list[dict]]] = {}
  rows = []
  for r in results:
    if "error" in r:
      rows.append(f"{r['model']:<9} {r['side']:<6} round {r.get('round')}: ERROR {r['error']}")
    else:
      by_model.setdefault(r["model"], {}).setdefault(r["side"], []).append(r)
  rows.insert(0, "model     side   params       train ex/s  infer ex/s  first step s  "
              "compile s  peak RSS MB  (medians over rounds)")
  ratios = ["", "ratio JAX / reference, examples/s (> 1: JAX faster): median [each round]"]
  for model, sides in by_model.items():
    for side, runs in sides.items():
      rows.append(
          f"{model:<9} {side:<6} {runs[0]['parameters']:>11,}  "
          f"{_median([r['train_examples_per_s'] for r in runs]):>10.2f}  "
          f"{_median([r['inference_examples_per_s'] for r in runs]):>10.2f}  "
          f"{_median([r['first_train_step_s'] for r in runs]):>12.2f}  "
          f"{_median([r.get('train_compile_s', 0.0) for r in runs]):>9.2f}  "
          f"{max(r['peak_rss_mb'] for r in runs):>11.0f}")
    jax_runs = {r["round"]: r for r in sides.get("jax", [])}
    torch_runs = {r["round"]: r for r in sides.get("torch", [])}
    paired = sorted(set(jax_runs) & set(torch_runs))
    if paired:
      for what in ("train", "inference"):
        each = [jax_runs[i][f"{what}_examples_per_s"] / torch_runs[i][f"{what}_examples_per_s"]
                for i in paired]
        ratios.append(f"{model:<9} {what:<9} {_median(each):.2f}x  "
                      f"[{', '.join(f'{x:.2f}' for x in each)}]")
      ratios.append(f"{'':<9} vs {torch_runs[paired[0]]['implementation']}")
  return "\n".join(rows + ratios)


def main(argv=None) -> None:
  parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
  parser.add_argument("--models", default=",".join(MODELS),
                      help=f"comma-separated subset of {','.join(MODELS)}")
  parser.add_argument("--side", choices=("both", "jax", "torch"), default="both",
                      help="both: the driver; jax/torch: run one side in this process")
  parser.add_argument("--torch_python", default="/work/bench-venv/bin/python",
                      help="Python of the venv with torch and the reference packages")
  parser.add_argument("--rounds", type=int, default=1,
                      help="repeat each (JAX, PyTorch) pair, alternating which goes first")
  parser.add_argument("--timeout", type=float, default=900.0,
                      help="seconds per (model, side) process")
  parser.add_argument("--output", default=None, help="also write the results as JSON")
  args = parser.parse_args(argv)
  models = [m for m in args.models.split(",") if m]
  unknown = sorted(set(models) - set(MODELS))
  if unknown:
    parser.error(f"unknown model(s) {unknown}; valid: {','.join(MODELS)}")

  if args.side != "both":
    for model in models:
      result = run_jax(model) if args.side == "jax" else run_torch(model)
      print(json.dumps(result), flush=True)
    return

  load_before = os.getloadavg()
  print("load average before: {:.2f} {:.2f} {:.2f}".format(*load_before),
        f"on {os.cpu_count()} CPUs", flush=True)
  results = []
  sides = (("jax", sys.executable), ("torch", args.torch_python))
  for model in models:
    for round_ in range(args.rounds):
      for side, python in (sides if round_ % 2 == 0 else sides[::-1]):
        result = _child(python, model, side, args.timeout)
        result["round"] = round_
        results.append(result)
        shown = {k: (round(v, 3) if isinstance(v, float) else v)
                 for k, v in result.items()}
        print(json.dumps(shown), flush=True)
  load_after = os.getloadavg()
  print("load average after: {:.2f} {:.2f} {:.2f}".format(*load_after))
  print(_summary(results))
  if args.output:
    with open(args.output, "w") as f:
      json.dump({"load_average": {"before": load_before, "after": load_after},
                 "results": results}, f, indent=2)


if __name__ == "__main__":
  main()
