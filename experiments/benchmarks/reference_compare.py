r"""Compare: train-step and inference speed of our models against their PyTorch references.

  python -m experiments.benchmarks.reference_compare                     # all four, ~25 min
  python -m experiments.benchmarks.reference_compare --models=deepsea,bpnet --rounds=3 \
      --output=/tmp/compare.json

Run it from the repository root with the project's Python. Three steps, three files:
``reference_inputs`` (prepare: the configurations and the shared random batch),
``reference_jax`` / ``reference_torch`` (time one side in a fresh process; the PyTorch
side runs in the benchmark venv, ``--torch_python``, and imports neither JAX nor
genereg_jax) and this driver (compare).

For each model and round the driver waits (at most ``--max_wait_s``) for the 1-minute
load average to fall below the core count, then starts the two sides back to back,
alternating which goes first from round to round, records each child's load average
before and after and the CPU other processes used while it ran, and flags it ``loaded``
as ``timing.run_child`` defines it (load at or above the core count at the start, or
other processes busy on 10% of the cores or more).
Each side warms up until its step time is flat and times ``timing.TIMED_STEPS`` steps
(median and IQR). Ratios are JAX examples/s over the reference's, per round and their
median; MFU of both sides uses the JAX step's XLA FLOP count and the JAX process's
measured matmul peak (the reference's utilisation at the same FLOPs).
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Callable

import numpy as np

from experiments.benchmarks import reference_inputs as inputs
from experiments.benchmarks import timing

SIDES = ("jax", "torch")
DEFAULT_TORCH_PYTHON = "/work/bench-venv/bin/python"
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def child_command(side: str, model: str, python: str, quick: bool) -> list[str]:
  module = {"jax": "reference_jax", "torch": "reference_torch"}[side]
  return ([python, "-m", f"experiments.benchmarks.{module}", f"--model={model}"]
          + (["--quick"] if quick else []))


def _with_reference_mfu(jax_row: dict, torch_row: dict) -> None:
  """The reference's utilisation at the JAX step's FLOPs and the JAX process's peak."""
  peak = jax_row.get("matmul_peak", {}).get("flops_per_s")
  for what in ("train", "inference"):
    flops = jax_row.get(what, {}).get("flops")
    step = torch_row.get(what, {}).get("median_s")
    if flops and peak and step:
      torch_row[what]["flops"] = flops
      torch_row[what]["mfu"] = flops / step / peak


def summarize_model(rows: list[dict]) -> dict:
  """Per-round and median ratios (JAX / reference examples/s) of one model's rows."""
  ok = [r for r in rows if "error" not in r]
  by_side = {side: {r["round"]: r for r in ok if r["side"] == side} for side in SIDES}
  summary = {"rounds": len({r["round"] for r in rows}),
             "loaded_rows": sum(bool(r.get("loaded")) for r in rows),
             "errors": [r["error"] for r in rows if "error" in r]}
  for what in ("train", "inference"):
    rates = {side: {k: r[what]["examples_per_s"] for k, r in runs.items()}
             for side, runs in by_side.items()}
    summary[f"{what}_ratio"] = timing.round_ratios(rates["jax"], rates["torch"])
    for side, runs in by_side.items():
      values = [r[what][key] for r in runs.values()
                for key in ("examples_per_s",) if r[what].get(key)]
      mfus = [r[what]["mfu"] for r in runs.values() if r[what].get("mfu")]
      summary[f"{side}_{what}_examples_per_s"] = (float(np.median(values)) if values
                                                  else None)
      summary[f"{side}_{what}_mfu"] = float(np.median(mfus)) if mfus else None
  return summary


def compare(models, *, rounds: int = 2, torch_python: str = DEFAULT_TORCH_PYTHON,
            quick: bool = False, max_wait_s: float = 300.0, timeout: float = 1800.0,
            run: Callable[..., dict] = timing.run_child,
            log: Callable[[str], None] = print) -> dict:
  """Runs every (model, round, side) child; returns ``{"rows", "models"}``.

  ``run`` is ``timing.run_child`` (a test passes a fake one).
  """
  pythons = {"jax": sys.executable, "torch": torch_python}
  rows, summaries = [], {}
  for model in models:
    inputs.check_model(model)
    model_rows = []
    for round_, order in enumerate(timing.round_orders(SIDES, rounds)):
      pair = {}
      for side in order:
        row = run(child_command(side, model, pythons[side], quick), cwd=REPO,
                  timeout=timeout, max_wait_s=max_wait_s)
        row.update(model=model, side=side, round=round_, order=list(order))
        pair[side] = row
        log(_row_line(row))
      if all("error" not in pair[s] for s in SIDES):
        _with_reference_mfu(pair["jax"], pair["torch"])
      model_rows.extend(pair[s] for s in order)
    rows.extend(model_rows)
    summaries[model] = summarize_model(model_rows)
  return {"rows": rows, "models": summaries, "quick": quick, "cores": timing.cores()}


def _row_line(row: dict) -> str:
  head = (f"{row['model']:<9} {row['side']:<6} round {row['round']} load "
          f"{row['load_before'][0]:.2f}->{row['load_after'][0]:.2f}"
          f"{' LOADED' if row.get('loaded') else ''}")
  if "error" in row:
    return f"{head}: ERROR {row['error']}"
  parts = []
  for what in ("train", "inference"):
    m = row[what]
    mfu = f", MFU {m['mfu']:.0%}" if m.get("mfu") else ""
    parts.append(f"{what} {m['examples_per_s']:.2f} ex/s (median {m['median_s']:.3f} s, "
                 f"IQR {m['iqr_s']:.3f}{mfu})")
  return f"{head}: " + "; ".join(parts)


def summary_text(result: dict) -> str:
  lines = ["model     train ratio [rounds]         inference ratio [rounds]     "
           "MFU train jax/ref   loaded rows"]
  for model, s in result["models"].items():
    def ratio(what):
      r = s[f"{what}_ratio"]
      if r["median"] is None:
        return "-"
      return f"{r['median']:.2f}x [{', '.join(f'{x:.2f}' for x in r['per_round'])}]"

    def pct(x):
      return "-" if x is None else f"{x:.0%}"

    lines.append(f"{model:<9} {ratio('train'):<28} {ratio('inference'):<28} "
                 f"{pct(s['jax_train_mfu']):>5} / {pct(s['torch_train_mfu']):<10} "
                 f"{s['loaded_rows']}/{2 * s['rounds']}")
    for error in s["errors"]:
      lines.append(f"  error: {error}")
  return "\n".join(lines)


def main(argv=None) -> None:
  parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
  parser.add_argument("--models", default=",".join(inputs.MODELS),
                      help=f"comma-separated subset of {','.join(inputs.MODELS)}")
  parser.add_argument("--torch_python", default=DEFAULT_TORCH_PYTHON,
                      help="Python of the venv with torch and the reference packages")
  parser.add_argument("--rounds", type=int, default=2,
                      help="repeat each (JAX, PyTorch) pair, alternating which goes first")
  parser.add_argument("--max_wait_s", type=float, default=300.0,
                      help="wait at most this long for load < cores before each child")
  parser.add_argument("--timeout", type=float, default=1800.0,
                      help="seconds per (model, side) process")
  parser.add_argument("--quick", action="store_true", help="small batches, few steps")
  parser.add_argument("--output", default=None, help="also write the results as JSON")
  args = parser.parse_args(argv)
  models = [m for m in args.models.split(",") if m]
  unknown = sorted(set(models) - set(inputs.MODELS))
  if unknown:
    parser.error(f"unknown model(s) {unknown}; valid: {','.join(inputs.MODELS)}")
  result = compare(models, rounds=args.rounds, torch_python=args.torch_python,
                   quick=args.quick, max_wait_s=args.max_wait_s, timeout=args.timeout)
  print(summary_text(result))
  if args.output:
    from genereg_jax import files
    files.write_json(args.output, result)


if __name__ == "__main__":
  main()
