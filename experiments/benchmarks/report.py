r"""One command for the whole benchmark table: benchmarks.json and benchmarks.md.

  python -m experiments.benchmarks.report --out=/tmp/bench            # everything, ~2.5 h
  python -m experiments.benchmarks.report --out=/tmp/bench --quick    # tiny, ~1 h loaded
  python -m experiments.benchmarks.report --out=/tmp/bench --parts=reference,train_step

Run it from the repository root with the project's Python, on a machine as quiet as you
can get: every child process waits (at most ``--max_wait_s``) for the 1-minute load
average to fall below the core count, and a row is flagged ``loaded`` in both outputs
when the load was at or above it at the start or other processes kept 10% of the cores
or more busy while it ran (``timing.run_child``: the child's own load is not held
against it). Parts:

  reference    ``reference_compare``: DeepSEA, DanQ, Enformer and BPNet against their
               PyTorch references (``--torch_python``), ``--rounds`` rounds with
               alternating order, per-round ratios, MFU of both sides.
  spliceai     ``spliceai_scoring``: end to end against the official CLI
               (``--official_cli``; missing: our side only) on ``--spliceai_variants``
               records, the compilation-cache warm run, model only at batch 1 and 32.
  train_step   ``train_step`` for every config in ``experiments/configs`` (the
               embedded-data variant where the default needs a download; ``--quick``:
               the ``:tiny`` variants), each a fresh process: examples/s, compile
               time, XLA FLOPs and MFU.

``--quick`` shrinks every batch, step count and the VCF, so the table machinery runs in
minutes; its numbers are not results. The markdown is the README's table: paste it
with its load line, never retype numbers.
"""

from __future__ import annotations

import argparse
import datetime
import os
import sys
from typing import Callable

from experiments.benchmarks import reference_compare
from experiments.benchmarks import reference_inputs
from experiments.benchmarks import spliceai_scoring
from experiments.benchmarks import timing

PARTS = ("reference", "spliceai", "train_step")

# Config -> (variant timed by default, variant timed with --quick). The default is the
# config itself where it trains on embedded data, else its embedded-data variant; the
# two whose only datasets are downloads keep them (the row says so if absent).
TRAIN_STEP_CONFIGS = {
    "basenji2_human": ("basenji2_human", "basenji2_human:tiny"),
    "basset": ("basset", "basset:tiny"),
    "bpnet": ("bpnet", "bpnet:tiny"),
    "bpnet_mesc": (None, None),
    "danq": ("danq", "danq:tiny"),
    "deepbind": ("deepbind", "deepbind:tiny"),
    "deepbind_rna": ("deepbind_rna", "deepbind_rna:tiny"),
    "deepsea": ("deepsea", "deepsea:tiny"),
    "deerect_apa": ("deerect_apa", "deerect_apa:tiny"),
    "deerect_polya": ("deerect_polya", "deerect_polya:tiny"),
    "cnnprom": ("cnnprom", "cnnprom:tiny"),
    "promid": ("promid", "promid:tiny"),
    "enformer_human_mouse": ("enformer_human_mouse:synthetic", "enformer_human_mouse:tiny"),
    "borzoi_human_mouse": ("borzoi_human_mouse:synthetic", "borzoi_human_mouse:tiny"),
    "expecto": ("expecto", "expecto:tiny"),
    "leung_pas": ("leung_pas", "leung_pas:tiny"),
    "pangolin": ("pangolin:synthetic", "pangolin:tiny"),
    "rnatracker": ("rnatracker", "rnatracker:tiny"),
    "spliceai_10k": ("spliceai_10k:synthetic", "spliceai_10k:tiny"),
    "mirtdl": ("mirtdl", "mirtdl:tiny"),
    "splicing_code": ("splicing_code", "splicing_code:tiny"),
    "darts": ("darts", "darts:tiny"),
    "akita": ("akita", "akita:tiny"),
    "orca_1mb": ("orca_1mb", "orca_1mb:tiny"),
    "deepphos": ("deepphos", "deepphos:tiny"),
    "deeploc": ("deeploc", "deeploc:tiny"),
    "musitedeep": ("musitedeep", "musitedeep:tiny"),
    "deepubi": ("deepubi", "deepubi:tiny"),
    "nucleicnet": ("nucleicnet", "nucleicnet:tiny"),
    "graphreg_epi": ("graphreg_epi", "graphreg_epi:tiny"),
    # Stage 2 needs a stage-1 workdir (init_from); the pretraining stage stands alone.
    "graphreg_seq": ("graphreg_seq:pretrain", "graphreg_seq:tiny_pretrain"),
    "deerect_tss": ("deerect_tss", "deerect_tss:tiny"),
    "protonet_motifs": ("protonet_motifs", "protonet_motifs:tiny"),
    "xpresso": ("xpresso", "xpresso:tiny"),
    "cuperus_utr": ("cuperus_utr", "cuperus_utr:tiny"),
    "aparent": ("aparent", "aparent:tiny"),
    "deepmel": ("deepmel", "deepmel:tiny"),
    # The paper-size pretraining batches (2,000 x 512 tokens ...) take hours a step on a
    # CPU: the report times the small presets.
    "dnabert_pretrain": ("dnabert_pretrain:small", "dnabert_pretrain:tiny"),
    "esm_pretrain": ("esm_pretrain:small", "esm_pretrain:tiny"),
    # Train-step speed does not depend on the initialisation: timed from scratch (the
    # other modes need a pretrained workdir); LoRA's step is the same size.
    "dnabert_finetune": ("dnabert_finetune:scratch", "dnabert_finetune:tiny,scratch"),
    "scbasset": ("scbasset", "scbasset:tiny"),
    "basset_pseudobulk": ("basset_pseudobulk", "basset_pseudobulk:tiny"),
    "scale": ("scale", "scale:tiny"),
    "cnnc": ("cnnc", "cnnc:tiny"),
    "deepcpg": ("deepcpg", "deepcpg:tiny"),
    "fusion_demo": ("fusion_demo", "fusion_demo:tiny"),
    "deepgp": ("deepgp", "deepgp:tiny"),
    "shook_yield": ("shook_yield", "shook_yield:tiny"),
    "msa_transformer_pretrain": ("msa_transformer_pretrain:tiny",
                                 "msa_transformer_pretrain:tiny"),
}


# Why a config has no timed variant.
TRAIN_STEP_SKIPPED = {
    "bpnet_mesc": "real mESC data only (no embedded variant); `bpnet` times the same model",
}

# Download-only configs timed at their published shapes on random inputs (the
# ``train_step --example_shapes`` path), so the table has their real-size step.
TRAIN_STEP_SHAPES = {
    # Basenji2: 131,072 bp in, 896 bins x 5,313 human tracks (params_human.json).
    "basenji2_human": "sequence:131072x4:uint8,target:896x5313:float32",
}


# Batch sizes other than the config's, where its own batch does not fit this machine's
# memory: Seq-GraphReg's pretraining at batch 2 of 1.2-Mb regions asks XLA for a 27.7 GB
# buffer (the machine has 24 GB).
TRAIN_STEP_BATCH = {"graphreg_seq": 1}


def train_step_rows(*, quick: bool, data_dir: str | None, max_wait_s: float,
                    timeout: float, run: Callable[..., dict] = timing.run_child,
                    log: Callable[[str], None] = print) -> list[dict]:
  """One ``train_step`` child per config (variant per ``TRAIN_STEP_CONFIGS``)."""
  rows = []
  for config, variants in TRAIN_STEP_CONFIGS.items():
    variant = variants[1] if quick else variants[0]
    if variant is None:
      rows.append({"config": config, "skipped": TRAIN_STEP_SKIPPED.get(
          config, "no variant without a download")})
      continue
    command = [sys.executable, "-m", "experiments.benchmarks.train_step",
               f"--config={variant}"]
    if data_dir:
      command.append(f"--config.dataset.data_dir={data_dir}")
    if config in TRAIN_STEP_BATCH and not quick:
      command.append(f"--batch_size={TRAIN_STEP_BATCH[config]}")
    if config in TRAIN_STEP_SHAPES and not quick:
      command.append(f"--example_shapes={TRAIN_STEP_SHAPES[config]}")
    if quick:
      command += ["--steps=3", "--max_warmup=6"]
    row = run(command, cwd=reference_compare.REPO, timeout=timeout, max_wait_s=max_wait_s)
    row["config"] = variant
    rows.append(row)
    log(f"train_step {variant}: " + (f"ERROR {row['error']}" if "error" in row else
                                     f"train {row['train']['examples_per_s']:.2f} ex/s"))
  return rows


def run_report(args, *, run: Callable[..., dict] = timing.run_child,
               log: Callable[[str], None] = print) -> dict:
  """Every part in ``args.parts``; ``run`` starts each child (a test passes a fake)."""
  result = {"started": datetime.datetime.now(datetime.timezone.utc).isoformat(
                timespec="seconds"),
            "cores": timing.cores(), "quick": args.quick, "load_start": os.getloadavg()}
  if "reference" in args.parts:
    result["reference"] = reference_compare.compare(
        reference_inputs.MODELS, rounds=args.rounds, torch_python=args.torch_python,
        quick=args.quick, max_wait_s=args.max_wait_s, timeout=args.timeout, run=run,
        log=log)
  if "spliceai" in args.parts:
    splice_args = spliceai_scoring.parser().parse_args([
        f"--variants={20 if args.quick else args.spliceai_variants}",
        f"--official_cli={args.official_cli}",
        f"--workdir={os.path.join(args.out, 'spliceai')}",
        f"--rounds={args.rounds}", f"--max_wait_s={args.max_wait_s}",
        f"--precise_records={5 if args.quick else 40}",
        f"--model_reps={3 if args.quick else timing.TIMED_STEPS}",
        f"--model_batch_sizes={'1,4' if args.quick else '1,32'}"])
    result["spliceai"] = spliceai_scoring.compare(splice_args, run=run, log=log)
  if "train_step" in args.parts:
    result["train_step"] = train_step_rows(quick=args.quick, data_dir=args.data_dir,
                                           max_wait_s=args.max_wait_s,
                                           timeout=args.timeout, run=run, log=log)
  result["load_end"] = os.getloadavg()
  return result


# ----------------------------------------------------------------------------------
# Markdown.
# ----------------------------------------------------------------------------------


def _num(x, fmt=".2f") -> str:
  return "–" if x is None else format(x, fmt)


def _load(row: dict) -> str:
  if "load_before" not in row:
    return "–"
  flag = " **loaded**" if row.get("loaded") else ""
  other = row.get("other_cores")
  others = "" if other is None else f", others {other:.2f} cores"
  return f"{row['load_before'][0]:.2f} → {row['load_after'][0]:.2f}{others}{flag}"


def _step(m: dict) -> str:
  """examples/s (median step s, IQR s)."""
  return (f"{m['examples_per_s']:.2f} ({m['median_s']:.3f} s, IQR {m['iqr_s']:.3f})"
          if m else "–")


def _pct(x) -> str:
  return "–" if x is None else f"{x:.0%}"


def reference_markdown(ref: dict) -> list[str]:
  lines = ["## Ours against the PyTorch references", "",
           "| model | side | round | train ex/s (median step, IQR) | inference ex/s "
           "(median step, IQR) | train MFU | inference MFU | train GFLOP/step | "
           "compile s (train) | peak RSS MB | load 1-min before → after |",
           "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
  for row in ref["rows"]:
    if "error" in row:
      lines.append(f"| {row['model']} | {row['side']} | {row['round']} | error: "
                   f"{row['error'][:80]} | | | | | | | {_load(row)} |")
      continue
    flops = row["train"].get("flops")
    lines.append(
        f"| {row['model']} | {row.get('implementation', row['side'])} | {row['round']} | "
        f"{_step(row['train'])} | {_step(row['inference'])} | {_pct(row['train'].get('mfu'))} | "
        f"{_pct(row['inference'].get('mfu'))} | {_num(flops and flops / 1e9, '.1f')} | "
        f"{_num(row.get('train_compile_s'), '.1f')} | {_num(row.get('peak_rss_mb'), ',.0f')} | "
        f"{_load(row)} |")
  lines += ["", "| model | train JAX / reference [per round] | inference JAX / reference "
            "[per round] | rows loaded |", "|---|---:|---:|---:|"]
  for model, s in ref["models"].items():
    cells = []
    for what in ("train", "inference"):
      r = s[f"{what}_ratio"]
      cells.append("–" if r["median"] is None else
                   f"{r['median']:.2f}× [{', '.join(f'{x:.2f}' for x in r['per_round'])}]")
    lines.append(f"| {model} | {cells[0]} | {cells[1]} | {s['loaded_rows']} of "
                 f"{2 * s['rounds']} |")
  return lines


def spliceai_markdown(s: dict) -> list[str]:
  lines = ["## SpliceAI scoring against the official CLI", "",
           f"{s['records']} VCF records, {s['transcripts']} transcripts, -D "
           f"{s['distance']}; sides: {', '.join(s['sides'])}.", "",
           "| round | tool | one-record s | full VCF s | variants/s | steady variants/s | "
           "load 1-min before → after (full) |", "|---:|---|---:|---:|---:|---:|---|"]
  for i, r in enumerate(s["rounds"]):
    for side in r["order"]:
      t = r[side]
      lines.append(
          f"| {i} | {side} | {_num(t['one_record'].get('process_wall_s'), '.1f')} | "
          f"{_num(t['full'].get('process_wall_s'), '.1f')} | "
          f"{_num(t.get('variants_per_s'), '.3f')} | "
          f"{_num(t.get('steady_variants_per_s'), '.3f')} | {_load(t['full'])} |")
  for key, name in (("ratio_variants_per_s", "end to end"),
                    ("ratio_steady_variants_per_s", "steady")):
    if key in s and s[key]["median"] is not None:
      lines.append(f"\nours / official, {name}: **{s[key]['median']:.2f}×** "
                   f"[{', '.join(f'{x:.2f}' for x in s[key]['per_round'])}]")
  if "compile_cache" in s:
    lines += ["", "| ours, persistent compilation cache | full VCF s | variants/s | load |",
              "|---|---:|---:|---|"]
    for name, row in s["compile_cache"].items():
      lines.append(f"| {name} | {_num(row.get('process_wall_s'), '.1f')} | "
                   f"{_num(row.get('variants_per_s'), '.3f')} | {_load(row)} |")
  if "model_only" in s:
    m = s["model_only"]
    lines += ["", f"Model only ({m['window']}-nt windows, five-model ensemble):", "",
              "| side | batch | ensemble windows/s (median call s, IQR) | load |",
              "|---|---:|---:|---|"]
    for side in s["sides"]:
      row = m.get(side, {})
      if "error" in row:
        lines.append(f"| {side} | – | error: {row['error'][:80]} | {_load(row)} |")
        continue
      for b, v in row.get("batch", {}).items():
        lines.append(f"| {side} | {b} | {v['ensemble_windows_per_s']:.3f} "
                     f"({v['median_s']:.3f} s, IQR {v['iqr_s']:.3f}) | {_load(row)} |")
  for name in ("printed_scores", "full_precision"):
    if name in s:
      c = s[name]
      lines.append(f"\n{name.replace('_', ' ')}: {c['entries_compared']} entries, max "
                   f"|ΔDS| {c['max_abs_delta_ds']:.2g}, {c['dp_mismatches']} DP "
                   f"mismatches, only ours {len(c['only_ours'])}, only official "
                   f"{len(c['only_official'])}")
  return lines


def train_step_markdown(rows: list[dict]) -> list[str]:
  lines = ["## train_step, every config", "",
           "| config | parameters | batch | train ex/s (median step, IQR) | inference ex/s "
           "(median step, IQR) | train GFLOP/step | train MFU | inference MFU | "
           "compile s (train / inference) | load 1-min before → after |",
           "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
  for row in rows:
    if "skipped" in row:
      lines.append(f"| {row['config']} | skipped: {row['skipped']} | | | | | | | | |")
    elif "error" in row:
      lines.append(f"| {row['config']} | error: {row['error'][:80]} | | | | | | | | "
                   f"{_load(row)} |")
    else:
      flops = row["train"].get("flops")
      lines.append(
          f"| {row['config']} | {row['parameters']:,} | {row['batch_size']} | "
          f"{_step(row['train'])} | {_step(row['inference'])} | "
          f"{_num(flops and flops / 1e9, '.1f')} | {_pct(row['train'].get('mfu'))} | "
          f"{_pct(row['inference'].get('mfu'))} | {row['train_compile_s']:.1f} / "
          f"{row['inference_compile_s']:.1f} | {_load(row)} |")
  return lines


def peak_line(result: dict) -> str:
  """The matmul peaks measured by the JAX children (min / median / max)."""
  peaks = [r["matmul_peak"]["flops_per_s"] for part in ("reference", "train_step")
           for r in (result.get(part, {}).get("rows", []) if part == "reference"
                     else result.get(part, []))
           if isinstance(r, dict) and "matmul_peak" in r]
  if not peaks:
    return "Matmul peak: not measured."
  peaks.sort()
  return (f"Matmul peak (jitted f32 2048², median of 10, per JAX process): "
          f"{peaks[0] / 1e9:.0f} / {peaks[len(peaks) // 2] / 1e9:.0f} / "
          f"{peaks[-1] / 1e9:.0f} GFLOP/s (min / median / max over {len(peaks)} processes).")


def markdown(result: dict) -> str:
  rows = [r for r in _all_rows(result)]
  loaded = sum(bool(r.get("loaded")) for r in rows)
  lines = ["# Benchmarks", "",
           f"Generated by `python -m experiments.benchmarks.report"
           f"{' --quick' if result['quick'] else ''}` at {result['started']} on "
           f"{result['cores']} cores; 1-minute load {result['load_start'][0]:.2f} at the "
           f"start, {result['load_end'][0]:.2f} at the end; **{loaded} of {len(rows)} "
           f"processes ran loaded** (1-minute load ≥ cores before the start, or other "
           f"processes busy on ≥ {timing.OTHER_CPU_SHARE:.0%} of the cores while it ran).",
           "" if not result["quick"] else
           "\n`--quick`: tiny batches and few steps; these numbers test the machinery and "
           "are not results.", peak_line(result), ""]
  if "reference" in result:
    lines += reference_markdown(result["reference"]) + [""]
  if "spliceai" in result:
    lines += spliceai_markdown(result["spliceai"]) + [""]
  if "train_step" in result:
    lines += train_step_markdown(result["train_step"]) + [""]
  return "\n".join(lines)


def _all_rows(result: dict):
  yield from result.get("reference", {}).get("rows", [])
  if "spliceai" in result:
    yield from spliceai_scoring._rows(result["spliceai"])
  yield from (r for r in result.get("train_step", []) if "skipped" not in r)


def write(out: str, result: dict) -> tuple[str, str]:
  """``benchmarks.json`` and ``benchmarks.md`` under ``out``, each written atomically."""
  from genereg_jax import files
  json_path = os.path.join(out, "benchmarks.json")
  md_path = os.path.join(out, "benchmarks.md")
  files.write_json(json_path, result)
  with files.atomic_write(md_path) as f:
    f.write(markdown(result))
  return json_path, md_path


def parser() -> argparse.ArgumentParser:
  p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
  p.add_argument("--out", required=True, help="folder for benchmarks.json / benchmarks.md")
  p.add_argument("--parts", default=",".join(PARTS),
                 help=f"comma-separated subset of {','.join(PARTS)}")
  p.add_argument("--quick", action="store_true", help="tiny sizes, few steps (machinery)")
  p.add_argument("--rounds", type=int, default=2, help="rounds, alternating order")
  p.add_argument("--torch_python", default=reference_compare.DEFAULT_TORCH_PYTHON)
  p.add_argument("--official_cli", default="/work/tf-venv/bin/spliceai")
  p.add_argument("--spliceai_variants", type=int, default=1000)
  p.add_argument("--data_dir", default=None, help="TFDS data_dir for train_step's configs")
  p.add_argument("--max_wait_s", type=float, default=300.0,
                 help="wait at most this long for load < cores before each process")
  p.add_argument("--timeout", type=float, default=1800.0, help="seconds per process")
  return p


def main(argv=None) -> None:
  args = parser().parse_args(argv)
  args.parts = [p for p in args.parts.split(",") if p]
  unknown = sorted(set(args.parts) - set(PARTS))
  if unknown:
    parser().error(f"unknown part(s) {unknown}; valid: {','.join(PARTS)}")
  result = run_report(args)
  for path in write(args.out, result):
    print(path)


if __name__ == "__main__":
  main()
