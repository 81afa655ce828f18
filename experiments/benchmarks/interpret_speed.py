r"""Attribution speed against tangermeme 1.6 on the same weights: DeepLIFT-SHAP and ISM.

  python -m experiments.benchmarks.interpret_speed --models deepsea       # compare
  /work/interpvenv/bin/python -m experiments.benchmarks.interpret_speed --side=torch \
      --model=bpnet --weights=W.npz                                      # one side

Models: BPNet as bpnet-lite 1.1 builds it (64 filters, 8 dilated layers, 2,114 bp in,
1 output, no control track; explained: the log-counts output, through bpnet-lite's
``CountWrapper``) and DeepSEA as published (1,000 bp, 919 logits; explained: logit 0).
A first process (``--side=weights``, the torch venv) seeds and builds each model and
saves its state dict (``.npz``); the JAX side loads the same weights
(``bpnet.load_bpnet_lite``; DeepSEA converted here). The torch side times tangermeme's
``deep_lift_shap`` (20 dinucleotide-shuffled references, ``random_state=0``) and
``saturation_mutagenesis`` (raw outputs of all 3 x L substitutions, tangermeme's fast
path); the JAX side ``deeplift_shap`` (``n_shuffles=20``) and ``ism`` (fastISM where the
model has a fast trunk: DeepSEA's strided conv / max-pool tower, BPNet's receptive
cones).

Timing (``timing``, shared with the other benchmarks): each call explains one sequence;
warm-up calls on other sequences until the time per call is flat (compilation included
there), then ``--sequences`` different sequences are timed one call each and reported as
1 / median seconds (with the IQR), and the process's CPU seconds per sequence (all
threads; less moved by other processes on a shared machine). Each (round, side) is its
own process (``timing.run_child``: load before and after, a bounded wait for a quiet
machine); rounds alternate which side goes first; ratios are per round and their
median. The torch side imports no JAX and this driver imports neither.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import sys
import time

import numpy as np

from experiments.benchmarks import timing

MODELS = {"bpnet": 2114, "deepsea": 1000}
METHODS = ("deeplift_shap", "ism")
SIDES = ("torch", "jax")
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# ISM takes seconds per sequence: flat after one or two calls, so a window of one call.
WARMUP = {"deeplift_shap": dict(window=2, max_warmup=8),
          "ism": dict(window=1, max_warmup=4)}


def _sequences(count: int, length: int, seed: int) -> np.ndarray:
  rng = np.random.default_rng(seed)
  return np.eye(4, dtype=np.float32)[rng.integers(0, 4, (count, length))]


def _time_method(run, sync, length: int, method: str, count: int, to_input) -> dict:
  """``timing.warm_up`` on warm-up sequences, then one call per timed sequence."""
  warm = itertools.cycle(to_input(_sequences(3, length, seed=1))[:, None])
  timed = iter(to_input(_sequences(count, length, seed=0))[:, None])
  warmup = timing.warm_up(lambda: run(next(warm)), sync, window=WARMUP[method]["window"],
                          max_steps=WARMUP[method]["max_warmup"])
  cpu = time.process_time()
  summary = timing.summarize(timing.time_steps(lambda: run(next(timed)), sync, count))
  # CPU seconds of all this process's threads: less sensitive to a shared machine.
  cpu = (time.process_time() - cpu) / count
  return {**summary, "warmup": warmup, "sequences_per_s": 1.0 / summary["median_s"],
          "cpu_s_per_sequence": cpu}


def _torch_model(model_name: str):
  import torch
  torch.manual_seed(0)
  if model_name == "bpnet":
    from bpnetlite.bpnet import BPNet, CountWrapper
    model = BPNet(n_filters=64, n_layers=8, n_outputs=1, n_control_tracks=0)
    explained = CountWrapper(model)
  else:
    from experiments.benchmarks import reference_torch
    model = explained = reference_torch.deepsea_module(torch)
  model.eval()
  return model, explained


def write_weights(model_name: str, weights: str) -> dict:
  """Seeds and builds the torch model; writes its state dict to ``weights``."""
  model, _ = _torch_model(model_name)
  np.savez(weights, **{k: v.detach().numpy() for k, v in model.state_dict().items()})
  return {"weights": weights}


def torch_side(model_name: str, weights: str, count: int, methods) -> dict:
  """tangermeme's time per sequence on the weights in ``weights``."""
  import torch
  from tangermeme.deep_lift_shap import deep_lift_shap
  from tangermeme.saturation_mutagenesis import saturation_mutagenesis
  model, explained = _torch_model(model_name)
  with np.load(weights) as saved:
    model.load_state_dict({k: torch.from_numpy(saved[k]) for k in saved.files})
  run = {"deeplift_shap": lambda s: deep_lift_shap(explained, s, target=0, n_shuffles=20,
                                                   random_state=0, warning_threshold=1e9),
         "ism": lambda s: saturation_mutagenesis(explained, s, raw_outputs=True)}
  to_input = lambda x: torch.from_numpy(x.transpose(0, 2, 1).copy())
  return {m: _time_method(run[m], lambda v: v, MODELS[model_name], m, count, to_input)
          for m in methods}


def _deepsea_params(weights: str):
  with np.load(weights) as sd:
    sd = {k: sd[k] for k in sd.files}
  conv = lambda i: {"kernel": sd[f"{i}.weight"].transpose(2, 1, 0), "bias": sd[f"{i}.bias"]}
  hidden = sd["12.weight"]  # torch flattens [channels, positions]; flax [positions, channels].
  out_features, flat = hidden.shape
  positions = flat // 960
  hidden = hidden.reshape(out_features, 960, positions).transpose(2, 1, 0).reshape(flat, -1)
  return {"tower": {f"ConvBlock_{b}": {"Conv_0": conv(i)} for b, i in enumerate((0, 4, 8))},
          "hidden": {"Dense_0": {"kernel": hidden, "bias": sd["12.bias"]}},
          "output": {"kernel": sd["14.weight"].T, "bias": sd["14.bias"]}}


def jax_side(model_name: str, weights: str, count: int, methods) -> dict:
  """genereg_jax's time per sequence on the weights the torch side wrote."""
  import jax
  from genereg_jax import interpret
  fast = None
  if model_name == "bpnet":
    from genereg_jax.models import bpnet
    model, params = bpnet.load_bpnet_lite(weights)
    fn = lambda x: model.apply({"params": params}, x)["log_counts"]
    # fastISM per layer (genereg_jax.nn.cone): only each layer's cone is recomputed.
    fast = bpnet.cone_model(model, params, readout=lambda y: y["log_counts"])
  else:
    from genereg_jax.models import deepsea
    model, params = deepsea.DeepSEA(), _deepsea_params(weights)
    fn = lambda x: model.apply({"params": params}, x)
    fast = deepsea.strided_trunk(model, params)
  run = {"deeplift_shap": lambda s: interpret.deeplift_shap(fn, s, 0, n_shuffles=20),
         "ism": lambda s: interpret.ism(fn, s, fast=fast)}
  return {m: _time_method(run[m], jax.block_until_ready, MODELS[model_name], m, count,
                          lambda x: x)
          for m in methods}


def child_command(side: str, python: str, model: str, weights: str, count: int,
                  methods) -> list[str]:
  return [python, "-m", "experiments.benchmarks.interpret_speed", f"--side={side}",
          f"--model={model}", f"--weights={weights}", f"--sequences={count}",
          "--methods", *methods]


def compare(args) -> dict:
  pythons = {"torch": args.torch_python, "jax": sys.executable}
  os.makedirs(args.workdir, exist_ok=True)
  rows = []
  for model_name in args.models:
    weights = os.path.join(args.workdir, f"{model_name}.npz")
    made = timing.run_child(child_command("weights", args.torch_python, model_name, weights,
                                          0, args.methods), cwd=REPO, max_wait_s=0)
    if "error" in made:
      raise SystemExit(f"writing {model_name} weights failed: {made['error']}")
    for round_, order in enumerate(timing.round_orders(SIDES, args.rounds)):
      for side in order:
        row = timing.run_child(child_command(side, pythons[side], model_name, weights,
                                             args.sequences, args.methods),
                               cwd=REPO, max_wait_s=args.max_wait_s, timeout=args.timeout)
        row.update(model=model_name, side=side, round=round_)
        rows.append(row)
        print(json.dumps(row), flush=True)
  return {"rows": rows, "summary": summarize(rows, args.models, args.methods)}


def summarize(rows: list[dict], models, methods) -> list[dict]:
  """Per (model, method): each side's median sequences/s over rounds and the ratios."""
  table = []
  for model_name, method in itertools.product(models, methods):
    rate = {side: {r["round"]: r[method]["sequences_per_s"] for r in rows
                   if r["model"] == model_name and r["side"] == side and method in r}
            for side in SIDES}
    loads = [r["load_before"][0] for r in rows if r["model"] == model_name]
    loads += [r["load_after"][0] for r in rows if r["model"] == model_name]
    table.append({"model": model_name, "method": method,
                  **{side: float(np.median(list(v.values()))) if v else None
                     for side, v in rate.items()},
                  "ratio": timing.round_ratios(rate["jax"], rate["torch"]),
                  "cpu_ratio": timing.round_ratios(*(
                      {r["round"]: 1 / r[method]["cpu_s_per_sequence"] for r in rows
                       if r["model"] == model_name and r["side"] == side and method in r}
                      for side in ("jax", "torch"))),
                  "load": [min(loads), max(loads)] if loads else None})
  return table


def summary_text(table: list[dict], count: int) -> str:
  lines = ["| model | method | tangermeme seq/s | ours seq/s | ratio [rounds] | CPU-time "
           "ratio | load |", "|---|---|---:|---:|---:|---:|---|"]
  for r in table:
    ratio = r["ratio"]
    if ratio["median"] is None:
      lines.append(f"| {r['model']} | {r['method']} | - | - | - | - | - |")
      continue
    rounds = ", ".join(f"{x:.2f}" for x in ratio["per_round"])
    lines.append(f"| {r['model']} | {r['method']} | {r['torch']:.3g} | {r['jax']:.3g} | "
                 f"{ratio['median']:.2f}x [{rounds}] | {r['cpu_ratio']['median']:.2f}x | "
                 f"{r['load'][0]:.1f}-{r['load'][1]:.1f} |")
  lines.append(f"{count} timed sequences per side and round (one per call, after warm-up), "
               f"{timing.cores()} CPUs")
  return "\n".join(lines)


def main(argv=None) -> None:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--side", choices=("weights", *SIDES))
  parser.add_argument("--model", choices=sorted(MODELS))
  parser.add_argument("--models", nargs="+", default=list(MODELS), choices=sorted(MODELS))
  parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
  parser.add_argument("--weights")
  parser.add_argument("--sequences", type=int, default=8)
  parser.add_argument("--rounds", type=int, default=2)
  parser.add_argument("--max_wait_s", type=float, default=120.0,
                      help="longest wait for a quiet machine before each process")
  parser.add_argument("--timeout", type=float, default=3600.0)
  parser.add_argument("--workdir", default="/tmp/interpret_speed")
  parser.add_argument("--torch_python", default="/work/interpvenv/bin/python")
  parser.add_argument("--json", help="also write the rows and the table here")
  args = parser.parse_args(argv)
  if args.side is None:
    result = compare(args)
    print(summary_text(result["summary"], args.sequences))
    if args.json:
      with open(args.json, "w") as f:
        json.dump(result, f, indent=1)
    return
  if args.side == "weights":
    print(json.dumps(write_weights(args.model, args.weights)))
    return
  side = torch_side if args.side == "torch" else jax_side
  print(json.dumps(side(args.model, args.weights, args.sequences, args.methods)))


if __name__ == "__main__":
  main()
