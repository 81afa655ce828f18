r"""Compare: SpliceAI variant scoring, ours against the official ``spliceai`` 1.3.1.

  python -m experiments.benchmarks.spliceai_scoring                  # 1,000 variants, 2 rounds
  python -m experiments.benchmarks.spliceai_scoring --variants=300 --rounds=1 \
      --official_cli=/work/tf-venv/bin/spliceai --output=/tmp/spliceai.json

Run it from the repository root with the project's Python. Three files: the inputs
(``spliceai_inputs``: synthetic genome, annotation, a VCF of ``--variants`` records and
a one-record VCF), the one-side children (``spliceai_side``: model-only timing of
either side, the official full-precision scores) and this driver. The official tool
runs in a separate virtual environment with TensorFlow (never a dependency of
genereg_jax; see ``experiments/benchmarks/README.md``), passed as ``--official_cli``;
its ``python`` beside it runs the official children. Without it, only our side runs.

Every process is started by ``timing.run_child``: after waiting (at most
``--max_wait_s``) for the 1-minute load to fall below the core count, with the load
before and after and the CPU other processes used while it ran recorded, and the run
flagged ``loaded`` as ``run_child`` defines it.

  end to end      both command lines as fresh processes on the full VCF and on the
                  one-record VCF (startup: imports, weights, compilation, one SNV; ours
                  with ``--batch_size=2`` there), so steady variants/s = (records - 1) /
                  (full - one-record time); ``--rounds`` alternates which tool goes
                  first; ratios per round and their median.
  compile cache   ours on the full VCF twice more with JAX's persistent compilation
                  cache in ``--workdir``: cold (empty cache), then warm.
  agreement       both output VCFs entry by entry (record, ALT, gene): the four DS at
                  the printed two decimals, the four DP, dot entries, entries only one
                  tool wrote; ``--precise_records`` records again at full precision
                  (ours through the library, the official through its own
                  ``get_delta_scores`` with ``{:.2f}`` -> ``{:.6f}``).
  model only      the bare five-model ensemble on random 10,101-nt windows at the same
                  batch sizes on both sides (``--model_batch_sizes``, default 1 and 32).
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Callable

import numpy as np

from experiments.benchmarks import spliceai_inputs
from experiments.benchmarks import timing

SCORE_FIELDS = ("DS_AG", "DS_AL", "DS_DG", "DS_DL")
SIDES = ("ours", "official")
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


# ----------------------------------------------------------------------------------
# Parsing and comparing outputs.
# ----------------------------------------------------------------------------------


def parse_entries(path: str) -> tuple[int, dict[tuple, list[str]]]:
  """(records, {(chrom, pos, ref, alts, allele, gene): fields 2..9 as text})."""
  entries, records = {}, 0
  with open(path) as f:
    for line in f:
      if line.startswith("#") or not line.strip():
        continue
      records += 1
      chrom, pos, _, ref, alts, _, _, info = line.rstrip("\n").split("\t")[:8]
      for item in info.split(";"):
        if item.startswith("SpliceAI="):
          for entry in item[len("SpliceAI="):].split(","):
            fields = entry.split("|")
            key = (chrom, int(pos), ref, alts, fields[0], fields[1])
            if key in entries:
              raise ValueError(f"{path}: duplicate entry {key}")
            entries[key] = fields[2:]
  return records, entries


def compare_entries(ours: dict[tuple, list[str]], official: dict[tuple, list[str]]
                    ) -> dict:
  """Row-by-row agreement of two ``parse_entries`` maps."""
  both = sorted(set(ours) & set(official))
  max_delta, worst, dp_mismatches, dot_mismatches, dots = 0.0, None, [], [], 0
  deltas = []
  for key in both:
    a, b = ours[key], official[key]
    if "." in a or "." in b:
      dots += a == b
      if a != b:
        dot_mismatches.append(list(key))
      continue
    delta = np.abs(np.array(a[:4], float) - np.array(b[:4], float))
    deltas.append(delta)
    if delta.max() > max_delta:
      max_delta, worst = float(delta.max()), {"key": list(key), "ours": a, "official": b}
    if [int(x) for x in a[4:]] != [int(x) for x in b[4:]]:
      dp_mismatches.append({"key": list(key), "ours": a[4:], "official": b[4:]})
  deltas = np.array(deltas) if deltas else np.zeros((0, 4))
  return {
      "entries_ours": len(ours), "entries_official": len(official),
      "entries_compared": len(both), "dot_entries_equal": dots,
      "dot_entries_differing": dot_mismatches,
      "only_ours": [list(k) for k in sorted(set(ours) - set(official))],
      "only_official": [list(k) for k in sorted(set(official) - set(ours))],
      "max_abs_delta_ds": max_delta,
      "scores_differing": int((deltas > 0).any(1).sum()),
      "max_abs_delta_ds_per_score": dict(zip(SCORE_FIELDS,
                                             deltas.max(0).tolist() if len(deltas)
                                             else [0.0] * 4)),
      "worst": worst, "dp_mismatches": len(dp_mismatches),
      "dp_mismatch_rows": dp_mismatches,
  }


def precise_ours(vcf: str, fasta: str, annotation: str, distance: int,
                 batch_size: int) -> dict[tuple, list[str]]:
  """Unrounded entries from the library (same arithmetic as the command line)."""
  from genereg_jax.data import gene_annotation
  from genereg_jax.models import spliceai
  from genereg_jax.variants import spliceai_scoring as ss
  genome = gene_annotation.Genome(fasta)
  variables = spliceai.load_official_weights(None)
  cone = ss.ConeEnsemble(spliceai.SpliceAI(**spliceai.PRESETS["10k"]), variables,
                         distance)
  scorer = ss.SpliceAIScorer(
      ss.Predictor(spliceai.SpliceAIEnsemble(), variables),
      10_000, genome, ss.GeneIndex(gene_annotation.load_annotation(annotation)),
      distance=distance, batch_size=batch_size, cone=cone)
  results = []
  with open(vcf) as f:
    for number, line in enumerate(f, start=1):
      if not line.startswith("#") and line.strip():
        results.append(ss.parse_record(line, number))
  scorer.score(results)
  genome.close()
  entries = {}
  for result in results:
    v = result.variant
    for entry in result.entries:
      key = (v.chrom, v.pos, v.ref, ",".join(v.alts), entry.allele, entry.gene)
      entries[key] = (["."] * 8 if entry.scores is None else
                      [f"{s:.6f}" for s in entry.scores] + [str(int(p)) for p in
                                                             entry.positions])
  return entries


# ----------------------------------------------------------------------------------
# Running the tools (each a fresh process, gated on load).
# ----------------------------------------------------------------------------------


def tool_command(side: str, vcf: str, inputs: dict, out: str, *, distance: int,
                 batch_size: int | None, official_cli: str | None) -> list[str]:
  if side == "ours":
    return ([sys.executable, "-m", "experiments.score_variants", "--config=spliceai_10k",
             f"--vcf={vcf}", f"--fasta={inputs['genome.fa']}",
             f"--annotation={inputs['genes.txt']}", f"--out={out}",
             f"--distance={distance}"]
            + ([f"--batch_size={batch_size}"] if batch_size else []))
  return [official_cli, "-I", vcf, "-O", out, "-R", inputs["genome.fa"], "-A",
          inputs["genes.txt"], "-D", str(distance)]


def official_python(official_cli: str) -> str:
  return os.path.join(os.path.dirname(official_cli), "python")


def _env(**extra) -> dict:
  return dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", **extra)


def time_tool(side: str, inputs: dict, out: str, args, run: Callable[..., dict],
              log: Callable[[str], None]) -> dict:
  """End-to-end rows of one tool: the one-record VCF, then the full one."""
  runs = {}
  for name, vcf in (("one_record", inputs["one.vcf"]), ("full", inputs["variants.vcf"])):
    # One record = two windows: batch 2, so that the startup run is not a padded batch.
    batch = args.batch_size if name == "full" else 2
    target = out if name == "full" else out + ".one.vcf"
    row = run(tool_command(side, vcf, inputs, target, distance=args.distance,
                           batch_size=batch, official_cli=args.official_cli),
              cwd=REPO, env=_env(), timeout=args.timeout, max_wait_s=args.max_wait_s,
              expect_json=False)
    runs[name] = row
    log(f"{side:<8} {name:<10} " + (f"ERROR {row['error']}" if "error" in row else
                                    f"{row['process_wall_s']:8.1f} s") +
        f"  load {row['load_before'][0]:.2f}->{row['load_after'][0]:.2f}"
        + (" LOADED" if row["loaded"] else ""))
  records = len(inputs["records"])
  full, one = runs["full"], runs["one_record"]
  if "error" not in full:
    runs["variants_per_s"] = records / full["process_wall_s"]
    if "error" not in one and full["process_wall_s"] > one["process_wall_s"]:
      runs["steady_variants_per_s"] = (records - 1) / (full["process_wall_s"]
                                                       - one["process_wall_s"])
  return runs


def compile_cache_runs(inputs: dict, args, run: Callable[..., dict]) -> dict:
  """Ours on the full VCF with JAX's persistent compilation cache: cold, then warm."""
  cache = os.path.join(args.workdir, "jax_cache")
  if os.path.isdir(cache):
    import shutil
    shutil.rmtree(cache)
  env = _env(JAX_COMPILATION_CACHE_DIR=cache, JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS="0",
             JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES="0")
  result = {}
  for name in ("cold", "warm"):
    row = run(tool_command("ours", inputs["variants.vcf"], inputs,
                           os.path.join(args.workdir, f"ours.cache_{name}.vcf"),
                           distance=args.distance, batch_size=args.batch_size,
                           official_cli=None),
              cwd=REPO, env=env, timeout=args.timeout, max_wait_s=args.max_wait_s,
              expect_json=False)
    if "error" not in row:
      row["variants_per_s"] = len(inputs["records"]) / row["process_wall_s"]
    result[name] = row
  return result


def precise_official(inputs: dict, vcf: str, args, run: Callable[..., dict]
                     ) -> tuple[dict[tuple, list[str]], dict]:
  row = run([official_python(args.official_cli), "-m", "experiments.benchmarks.spliceai_side",
             "--side=official_precise", f"--vcf={vcf}", f"--fasta={inputs['genome.fa']}",
             f"--annotation={inputs['genes.txt']}", f"--distance={args.distance}"],
            cwd=REPO, env=_env(), timeout=args.timeout, max_wait_s=args.max_wait_s)
  if "error" in row:
    raise RuntimeError(f"official precise scoring failed: {row['error']}")
  entries = {}
  for chrom, pos, ref, alts, entry in row.pop("entries"):
    fields = entry.split("|")
    entries[(chrom, pos, ref, alts, fields[0], fields[1])] = fields[2:]
  return entries, row


def model_only(args, sides, run: Callable[..., dict]) -> dict:
  """Ensemble windows/s of each side at the same batch sizes."""
  width = 10_000 + 2 * args.distance + 1
  result = {"window": width, "batch_sizes": args.model_batch_sizes}
  for side in sides:
    python = sys.executable if side == "ours" else official_python(args.official_cli)
    result[side] = run([python, "-m", "experiments.benchmarks.spliceai_side",
                        f"--side={side}_model", f"--width={width}",
                        f"--batch_sizes={args.model_batch_sizes}",
                        f"--reps={args.model_reps}"],
                       cwd=REPO, env=_env(), timeout=args.timeout,
                       max_wait_s=args.max_wait_s)
  if all("error" not in result.get(s, {"error": 1}) for s in SIDES):
    result["ratio_ours_over_official"] = {
        b: result["ours"]["batch"][b]["ensemble_windows_per_s"]
        / result["official"]["batch"][b]["ensemble_windows_per_s"]
        for b in result["ours"]["batch"] if b in result["official"]["batch"]}
  return result


# ----------------------------------------------------------------------------------
# Driver.
# ----------------------------------------------------------------------------------


def _median(values) -> float | None:
  values = [v for v in values if v is not None]
  return float(np.median(values)) if values else None


def compare(args, run: Callable[..., dict] = timing.run_child,
            log: Callable[[str], None] = print) -> dict:
  """The whole comparison for parsed ``args`` (see ``parser``); returns the summary."""
  sides = SIDES if args.official_cli and os.access(args.official_cli, os.X_OK) else ("ours",)
  inputs = spliceai_inputs.write_inputs(args.workdir, args.variants, args.edge_variants,
                                        args.seed)
  records = inputs["records"]
  kinds = {"snv": 0, "deletion": 0, "insertion": 0, "multi_alt": 0, "complex": 0}
  for _, _, ref, alts in records:
    kinds["multi_alt" if "," in alts else "complex" if len(ref) > 1 and len(alts) > 1
          else "deletion" if len(ref) > 1 else "insertion" if len(alts) > 1 else "snv"] += 1
  log(f"{len(records)} records ({kinds}) on {len(inputs['transcripts'])} transcripts in "
      f"{args.workdir}; sides {sides}")
  out = {side: os.path.join(args.workdir, f"{side}.vcf") for side in SIDES}
  summary = {"records": len(records), "kinds": kinds,
             "transcripts": len(inputs["transcripts"]), "distance": args.distance,
             "seed": args.seed, "cores": timing.cores(), "batch_size": args.batch_size,
             "sides": list(sides), "rounds": []}
  for order in timing.round_orders(sides, args.rounds):
    summary["rounds"].append({"order": list(order), **{
        side: time_tool(side, inputs, out[side], args, run, log) for side in order}})
  for side in sides:
    summary[side] = {key: _median([r[side].get(key) for r in summary["rounds"]])
                     for key in ("variants_per_s", "steady_variants_per_s")}
  if len(sides) == 2:
    for key in ("variants_per_s", "steady_variants_per_s"):
      summary[f"ratio_{key}"] = timing.round_ratios(
          {i: r["ours"].get(key) for i, r in enumerate(summary["rounds"])},
          {i: r["official"].get(key) for i, r in enumerate(summary["rounds"])})
    _, ours = parse_entries(out["ours"])
    _, official = parse_entries(out["official"])
    summary["printed_scores"] = compare_entries(ours, official)
    if args.precise_records > 0:
      subset = os.path.join(args.workdir, "precise.vcf")
      spliceai_inputs.subset_vcf(inputs["variants.vcf"], subset, args.precise_records)
      ours_precise = precise_ours(subset, inputs["genome.fa"], inputs["genes.txt"],
                                  args.distance, args.batch_size or 1)
      official_precise, row = precise_official(inputs, subset, args, run)
      summary["full_precision"] = {**compare_entries(ours_precise, official_precise),
                                   "records": args.precise_records, "official_run": row}
  if args.compile_cache:
    summary["compile_cache"] = compile_cache_runs(inputs, args, run)
  if args.model_reps > 0:
    summary["model_only"] = model_only(args, sides, run)
  summary["loaded_runs"] = sum(
      bool(row.get("loaded")) for row in _rows(summary))
  return summary


def _rows(summary: dict):
  """Every process row of a summary (those with a load record)."""
  for r in summary["rounds"]:
    for side in summary["sides"]:
      yield from (r[side][k] for k in ("one_record", "full") if k in r[side])
  yield from summary.get("compile_cache", {}).values()
  yield from (summary.get("model_only", {}).get(s) for s in summary["sides"]
              if s in summary.get("model_only", {}))


def summary_text(s: dict) -> str:
  lines = [f"{s['records']} records; loaded runs: {s['loaded_runs']}"]
  for side in s["sides"]:
    lines.append(f"{side:<9} variants/s {s[side]['variants_per_s'] or float('nan'):.3f}"
                 f" end to end, {s[side]['steady_variants_per_s'] or float('nan'):.3f} steady")
  if "ratio_variants_per_s" in s:
    r = s["ratio_variants_per_s"]
    lines.append(f"ratio ours / official end to end {r['median'] or float('nan'):.2f}x "
                 f"{r['per_round']}")
  for name, digits in (("printed_scores", ".2f"), ("full_precision", ".1e")):
    if name in s:
      c = s[name]
      lines.append(f"{name}: {c['entries_compared']} entries, max |dDS| "
                   f"{c['max_abs_delta_ds']:{digits}}, {c['dp_mismatches']} DP mismatches, "
                   f"only ours {len(c['only_ours'])}, only official {len(c['only_official'])}")
  if "compile_cache" in s:
    c = s["compile_cache"]
    lines.append("compile cache: " + ", ".join(
        f"{k} {v['process_wall_s']:.1f} s" for k, v in c.items() if "error" not in v))
  if "model_only" in s:
    m = s["model_only"]
    for side in s["sides"]:
      if "error" in m[side]:
        lines.append(f"model only {side}: ERROR {m[side]['error']}")
        continue
      lines.append(f"model only {side}: " + ", ".join(
          f"batch {b} {v['ensemble_windows_per_s']:.3f} windows/s"
          for b, v in m[side]["batch"].items()))
  return "\n".join(lines)


def parser() -> argparse.ArgumentParser:
  p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
  p.add_argument("--variants", type=int, default=spliceai_inputs.DEFAULT_VARIANTS)
  p.add_argument("--edge_variants", type=int, default=4,
                 help="of which within 5,050 nt of a chromosome start")
  p.add_argument("--seed", type=int, default=0)
  p.add_argument("--distance", type=int, default=50, help="-D of both tools")
  p.add_argument("--batch_size", type=int, default=None,
                 help="ours: windows per call (default: the scorer's)")
  p.add_argument("--official_cli", default="/work/tf-venv/bin/spliceai",
                 help="the official spliceai command; missing: our side only")
  p.add_argument("--workdir", default="/tmp/spliceai_bench")
  p.add_argument("--rounds", type=int, default=2,
                 help="repeat the (ours, official) pair, alternating which goes first")
  p.add_argument("--precise_records", type=int, default=40,
                 help="records scored again at full precision by both (0: skip)")
  p.add_argument("--compile_cache", type=int, default=1,
                 help="1: also time ours with the persistent compilation cache")
  p.add_argument("--model_batch_sizes", default="1,32",
                 help="model only: windows per call, on both sides")
  p.add_argument("--model_reps", type=int, default=timing.TIMED_STEPS,
                 help="model only: timed calls per batch size (0: skip)")
  p.add_argument("--max_wait_s", type=float, default=300.0,
                 help="wait at most this long for load < cores before each process")
  p.add_argument("--timeout", type=float, default=7200.0, help="seconds per process")
  p.add_argument("--output", default=None, help="also write the summary as JSON")
  return p


def main(argv=None) -> None:
  args = parser().parse_args(argv)
  summary = compare(args)
  print(summary_text(summary))
  if args.output:
    from genereg_jax import files
    files.write_json(args.output, summary)


if __name__ == "__main__":
  main()
