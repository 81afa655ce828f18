r"""Compare: BPNet variant scoring of a VCF, ours against tangermeme 1.6 on the same weights.

  python -m experiments.benchmarks.variant_scoring --torch_python=/work/refvenv/bin/python \
      [--variants 2000] [--batch_size 64] [--rounds 2] [--output /tmp/variant_scoring.json]

Run from the repository root with the project's Python. The model is the BPNet of
``tests/fixtures/bpnet_lite_small.npz`` (bpnet-lite 1.1.0 layout: 32 filters, 8 dilated
layers, 2 profile outputs, 2 control tracks, 2,114-nt input), converted to Flax for our
side and loaded into bpnet-lite for the other; the control is zeros on both. Inputs,
written to ``--workdir`` and deterministic in ``--seed``: a random 400 kb chromosome and
a VCF of ``--variants`` SNVs at random positions at least 2 kb from its ends.

Each side is one fresh process (``timing.run_child``: waits for a quiet machine, records
the load) that scores the whole VCF twice and reports the second pass (the first
compiles / warms up), as variants/s:

  ours        ``genereg_jax.variants.scoring.Scorer`` (reads the VCF and FASTA, builds
              REF/ALT windows, the jitted model, ``log_count_diff`` and ``JSD``).
  tangermeme  the same windows one-hot encoded up front (not timed), then
              ``tangermeme.variant_effect.substitution_effect`` in batches of
              ``--batch_size`` (REF and ALT predictions) and the same two scores in
              NumPy; tangermeme and bpnet-lite live in ``--torch_python``'s venv.

Rounds alternate which side goes first; ratios per round and their median. The two
sides' scores are compared (max |difference| of each score over all variants).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np

from experiments.benchmarks import timing

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
WEIGHTS = os.path.join(REPO, "tests", "fixtures", "bpnet_lite_small.npz")
PREFIX = "bpnet/sd/"
LENGTH = 2114
CHROM_LENGTH = 400_000
BASES = "ACGT"


def prepare(workdir: str, variants: int, seed: int) -> dict:
  """Writes ``genome.fa`` and ``variants.vcf``; returns their paths."""
  os.makedirs(workdir, exist_ok=True)
  rng = np.random.default_rng(seed)
  chrom = "".join(rng.choice(list(BASES), CHROM_LENGTH))
  genome = os.path.join(workdir, "genome.fa")
  with open(genome, "w") as f:
    f.write(">chr1\n" + "".join(chrom[i:i + 80] + "\n" for i in range(0, len(chrom), 80)))
  positions = np.sort(rng.choice(np.arange(2000, CHROM_LENGTH - 2000), variants,
                                 replace=False))
  vcf = os.path.join(workdir, "variants.vcf")
  with open(vcf, "w") as f:
    f.write("##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n")
    for i, pos in enumerate(positions):
      ref = chrom[pos - 1]
      alt = BASES[(BASES.index(ref) + 1 + rng.integers(3)) % 4]
      f.write(f"chr1\t{pos}\tv{i}\t{ref}\t{alt}\t.\t.\t.\n")
  return {"genome": genome, "vcf": vcf}


def _scores_summary(log_count_diff: np.ndarray, jsd: np.ndarray) -> dict:
  return {"log_count_diff": np.asarray(log_count_diff, np.float64).ravel().tolist(),
          "jsd": np.asarray(jsd, np.float64).ravel().tolist()}


def side_ours(args) -> dict:
  """Our scorer on the VCF, twice; the second pass timed."""
  import jax
  from genereg_jax.data import genome as genome_lib
  from genereg_jax.models import bpnet as bpnet_lib
  from genereg_jax.variants import scoring
  from genereg_jax.variants import vcf

  model, params = bpnet_lib.load_bpnet_lite(WEIGHTS, prefix=PREFIX)

  @jax.jit
  def fn(x):
    out = model.apply({"params": params}, x.astype(np.float32))
    return {"profile_probs": jax.nn.softmax(out["profile_logits"], axis=1),
            "log_counts": out["log_counts"]}

  class Predictor:
    input_length, data_devices = LENGTH, 1

    def __call__(self, one_hot):
      return {k: np.asarray(v) for k, v in fn(one_hot).items()}

  with open(args.vcf) as f:
    records = list(vcf.records(iter(enumerate(f, 1))))
  with genome_lib.Genome(args.genome) as genome:
    scorer = scoring.Scorer(Predictor(), genome, ["log_count_diff", "JSD"],
                            batch_size=args.batch_size)
    scorer.score_records(records)  # Warm-up: compiles the model.
    start = time.perf_counter()
    rows, issues = scorer.score_records(records)
    seconds = time.perf_counter() - start
  assert not issues, issues[:3]
  return {"side": "ours", "variants": len(rows), "seconds": seconds,
          "variants_per_s": len(rows) / seconds, "device": str(jax.devices()[0]),
          **_scores_summary([r.scores[("log_counts", "log_count_diff")] for r in rows],
                            [r.scores[("profile_probs", "JSD")] for r in rows])}


def side_tangermeme(args) -> dict:
  """tangermeme's substitution_effect on the same windows, twice; the second timed."""
  import torch
  from bpnetlite.bpnet import BPNet
  from tangermeme.variant_effect import substitution_effect

  data = np.load(WEIGHTS)
  kwargs = json.loads(str(data["kwargs_json"]))["bpnet"]
  model = BPNet(**{**kwargs, "verbose": False})
  model.load_state_dict({k[len(PREFIX):]: torch.from_numpy(data[k]) for k in data.files
                         if k.startswith(PREFIX)})
  model.eval()
  with open(args.genome) as f:
    chrom = "".join(line.strip() for line in f if not line.startswith(">"))
  variants = []
  with open(args.vcf) as f:
    for line in f:
      if not line.startswith("#"):
        fields = line.split("\t")
        variants.append((int(fields[1]), fields[4]))
  half = LENGTH // 2
  codes = np.frombuffer(chrom.encode(), np.uint8)
  lookup = np.full(256, 4, np.int64)
  lookup[np.frombuffer(BASES.encode(), np.uint8)] = np.arange(4)
  eye = np.vstack([np.eye(4, dtype=np.float32), np.zeros((1, 4), np.float32)])
  x = np.stack([eye[lookup[codes[pos - 1 - half:pos - 1 - half + LENGTH]]].T
                for pos, _ in variants])
  x = torch.from_numpy(x)
  substitutions = torch.tensor([[i, half, BASES.index(alt)]
                                for i, (_, alt) in enumerate(variants)])
  control = torch.zeros(len(variants), 2, LENGTH)

  def run():
    before, after = [], []
    for s in range(0, len(variants), args.batch_size):
      rows = substitutions[s:s + args.batch_size].clone()
      rows[:, 0] -= s
      result = substitution_effect(model, x[s:s + args.batch_size], rows,
                                   args=(control[s:s + args.batch_size],),
                                   batch_size=args.batch_size, device="cpu", verbose=False)
      before.append(result.y_before)
      after.append(result.y_after)
    profile = lambda ys, i: torch.cat([y[i] for y in ys]).numpy()
    p_ref = torch.softmax(torch.from_numpy(profile(before, 0)), -1).numpy()
    p_alt = torch.softmax(torch.from_numpy(profile(after, 0)), -1).numpy()
    p_ref, p_alt = p_ref / p_ref.sum(-1, keepdims=True), p_alt / p_alt.sum(-1, keepdims=True)
    m = (p_ref + p_alt) / 2
    jsd = ((p_ref * np.log(p_ref / m)).sum(-1) + (p_alt * np.log(p_alt / m)).sum(-1)) / 2
    return profile(after, 1) - profile(before, 1), jsd

  torch.set_grad_enabled(False)
  run()
  start = time.perf_counter()
  log_count_diff, jsd = run()
  seconds = time.perf_counter() - start
  return {"side": "tangermeme", "variants": len(variants), "seconds": seconds,
          "variants_per_s": len(variants) / seconds, "threads": torch.get_num_threads(),
          **_scores_summary(log_count_diff, jsd)}


def main() -> None:
  p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  p.add_argument("--side", choices=("ours", "tangermeme"))
  p.add_argument("--workdir", default="/tmp/variant_scoring_bench")
  p.add_argument("--genome")
  p.add_argument("--vcf")
  p.add_argument("--variants", type=int, default=2000)
  p.add_argument("--batch_size", type=int, default=64)
  p.add_argument("--rounds", type=int, default=2)
  p.add_argument("--seed", type=int, default=14)
  p.add_argument("--torch_python", default=None)
  p.add_argument("--max_wait_s", type=float, default=300.0)
  p.add_argument("--output", default=None)
  args = p.parse_args()
  if args.side:
    result = (side_ours if args.side == "ours" else side_tangermeme)(args)
    print(json.dumps(result))
    return
  inputs = prepare(args.workdir, args.variants, args.seed)
  common = [f"--genome={inputs['genome']}", f"--vcf={inputs['vcf']}",
            f"--batch_size={args.batch_size}"]
  pythons = {"ours": sys.executable, "tangermeme": args.torch_python}
  sides = [s for s in ("ours", "tangermeme") if pythons[s]]
  env = dict(os.environ, PYTHONPATH=REPO + os.pathsep + os.environ.get("PYTHONPATH", ""))
  rates: dict[str, dict[int, float]] = {s: {} for s in sides}
  results = []
  for round_index, order in enumerate(timing.round_orders(sides, args.rounds)):
    for side in order:
      r = timing.run_child([pythons[side], "-m", "experiments.benchmarks.variant_scoring",
                            f"--side={side}", *common], cwd=REPO, env=env,
                           max_wait_s=args.max_wait_s)
      r["round"] = round_index
      results.append(r)
      if "error" in r:
        print(f"round {round_index} {side}: {r['error']}", flush=True)
        continue
      rates[side][round_index] = r["variants_per_s"]
      print(f"round {round_index} {side}: {r['variants_per_s']:.1f} variants/s "
            f"({r['variants']} in {r['seconds']:.1f} s; load {r['load_before'][0]:.1f} -> "
            f"{r['load_after'][0]:.1f}{', LOADED' if r['loaded'] else ''})", flush=True)
  summary = {"variants": args.variants, "batch_size": args.batch_size}
  if len(sides) == 2:
    summary["ratio_ours_over_tangermeme"] = timing.round_ratios(rates["ours"],
                                                                rates["tangermeme"])
    done = {r["side"]: r for r in results if "error" not in r}
    if len(done) == 2:
      summary["max_abs_difference"] = {
          k: float(np.max(np.abs(np.subtract(done["ours"][k], done["tangermeme"][k]))))
          for k in ("log_count_diff", "jsd")}
    print(json.dumps(summary))
  if args.output:
    with open(args.output, "w") as f:
      json.dump({"summary": summary, "runs": [
          {k: v for k, v in r.items() if k not in ("log_count_diff", "jsd")}
          for r in results]}, f, indent=2)


if __name__ == "__main__":
  main()
