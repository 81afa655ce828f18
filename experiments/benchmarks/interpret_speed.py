r"""Attribution speed against tangermeme 1.6 on the same weights: DeepLIFT-SHAP and ISM.

  python -m experiments.benchmarks.interpret_speed --sequences=4      # compare
  /work/interpvenv/bin/python -m experiments.benchmarks.interpret_speed --side=torch \
      --model=bpnet --weights=W.npz                                   # one side

Models: BPNet as bpnet-lite 1.1 builds it (64 filters, 8 dilated layers, 2,114 bp in,
1 output, no control track; explained: the log-counts output, through bpnet-lite's
``CountWrapper``) and DeepSEA as published (1,000 bp, 919 logits; explained: logit 0).
The torch side seeds and builds each model, saves its state dict to ``--weights``
(``.npz``), then times tangermeme's ``deep_lift_shap`` (20 dinucleotide-shuffled
references, ``random_state=0``) and ``saturation_mutagenesis`` (raw outputs of all
3 x L substitutions, tangermeme's fast path); the JAX side loads the same weights
(``bpnet.load_bpnet_lite``; DeepSEA converted here) and times ``deeplift_shap``
(``n_shuffles=20``) and ``ism``. Each side runs in its own process (the torch side in
the venv with torch, tangermeme 1.6 and bpnet-lite; this one never imports torch),
back to back; one untimed sequence first (compilation / warm-up), then ``--sequences``
sequences timed in one call, reported as sequences/s with the load average before and
after. The machine is shared: the load is part of the result.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np

MODELS = {"bpnet": 2114, "deepsea": 1000}


def _sequences(count: int, length: int, seed: int = 0) -> np.ndarray:
  rng = np.random.default_rng(seed)
  return np.eye(4, dtype=np.float32)[rng.integers(0, 4, (count, length))]


def _timed(run, warm, x) -> float:
  run(warm)
  started = time.perf_counter()
  run(x)
  return x.shape[0] / (time.perf_counter() - started)


def torch_side(model_name: str, weights: str, count: int) -> dict:
  """tangermeme sequences/s; writes the model's state dict to ``weights``."""
  import torch
  from tangermeme.deep_lift_shap import deep_lift_shap
  from tangermeme.saturation_mutagenesis import saturation_mutagenesis
  torch.manual_seed(0)
  if model_name == "bpnet":
    from bpnetlite.bpnet import BPNet, CountWrapper
    model = BPNet(n_filters=64, n_layers=8, n_outputs=1, n_control_tracks=0)
    explained = CountWrapper(model)
  else:
    from experiments.benchmarks import reference_torch
    model = explained = reference_torch.deepsea_module(torch)
  model.eval()
  np.savez(weights, **{k: v.detach().numpy() for k, v in model.state_dict().items()})
  length = MODELS[model_name]
  x = torch.from_numpy(_sequences(count, length).transpose(0, 2, 1).copy())
  warm = torch.from_numpy(_sequences(1, length, seed=1).transpose(0, 2, 1).copy())
  dls = lambda s: deep_lift_shap(explained, s, target=0, n_shuffles=20, random_state=0,
                                 warning_threshold=1e9)
  ism = lambda s: saturation_mutagenesis(explained, s, raw_outputs=True)
  return {"deeplift_shap": _timed(dls, warm, x), "ism": _timed(ism, warm, x)}


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


def jax_side(model_name: str, weights: str, count: int) -> dict:
  """genereg_jax sequences/s on the weights the torch side wrote."""
  import jax
  from genereg_jax import interpret
  if model_name == "bpnet":
    from genereg_jax.models import bpnet
    model, params = bpnet.load_bpnet_lite(weights)
    fn = lambda x: model.apply({"params": params}, x)["log_counts"]
  else:
    from genereg_jax.models import deepsea
    model, params = deepsea.DeepSEA(), _deepsea_params(weights)
    fn = lambda x: model.apply({"params": params}, x)
  length = MODELS[model_name]
  x, warm = _sequences(count, length), _sequences(1, length, seed=1)
  block = lambda value: jax.block_until_ready(value)
  dls = lambda s: block(interpret.deeplift_shap(fn, s, 0, n_shuffles=20))
  ism = lambda s: block(interpret.ism(fn, s))
  # Warm-up compiles for a batch of 1; compile for the timed batch shape too.
  dls(x), ism(x)
  return {"deeplift_shap": _timed(dls, warm, x), "ism": _timed(ism, warm, x)}


def compare(args) -> None:
  rows = []
  for model_name in args.models:
    weights = os.path.join(args.workdir, f"{model_name}.npz")
    os.makedirs(args.workdir, exist_ok=True)
    result = {"model": model_name, "load_before": os.getloadavg()[0]}
    for side, python in (("torch", args.torch_python), ("jax", sys.executable)):
      run = subprocess.run([python, "-m", "experiments.benchmarks.interpret_speed",
                            f"--side={side}", f"--model={model_name}",
                            f"--weights={weights}", f"--sequences={args.sequences}"],
                           capture_output=True, text=True, check=False)
      if run.returncode:
        raise SystemExit(f"{side} side failed:\n{run.stderr[-3000:]}")
      result[side] = json.loads(run.stdout.strip().splitlines()[-1])
    result["load_after"] = os.getloadavg()[0]
    rows.append(result)
    print(json.dumps(result), flush=True)
  print("| model | method | tangermeme seq/s | ours seq/s | ratio | load |")
  print("|---|---|---:|---:|---:|---|")
  for r in rows:
    for method in ("deeplift_shap", "ism"):
      theirs, ours = r["torch"][method], r["jax"][method]
      print(f"| {r['model']} | {method} | {theirs:.3g} | {ours:.3g} | "
            f"{ours / theirs:.2f}x | {r['load_before']:.1f} -> {r['load_after']:.1f} |")
  print(f"{args.sequences} sequences per call, {os.cpu_count()} CPUs")


def main(argv=None) -> None:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--side", choices=("torch", "jax"))
  parser.add_argument("--model", choices=sorted(MODELS))
  parser.add_argument("--models", nargs="+", default=list(MODELS))
  parser.add_argument("--weights")
  parser.add_argument("--sequences", type=int, default=4)
  parser.add_argument("--workdir", default="/tmp/interpret_speed")
  parser.add_argument("--torch_python", default="/work/interpvenv/bin/python")
  args = parser.parse_args(argv)
  if args.side is None:
    compare(args)
    return
  side = torch_side if args.side == "torch" else jax_side
  print(json.dumps(side(args.model, args.weights, args.sequences)))


if __name__ == "__main__":
  main()
