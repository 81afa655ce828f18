r"""Compare: variant scoring of a VCF, ours against a peer on the same weights.

  python -m experiments.benchmarks.variant_scoring --models=bpnet,enformer \
      --torch_python=/work/bench-venv/bin/python --grelu_python=/work/grelu-venv/bin/python \
      [--variants 2000] [--batch_size 64] [--enformer_batch_size 4] [--rounds 2] \
      [--output /tmp/variant_scoring.json]

Run from the repository root with the project's Python. Inputs, written to ``--workdir``
and deterministic in ``--seed``: a random 400 kb chromosome and per model a VCF of
``--variants`` SNVs at random positions far enough from its ends for the model's window.

Models and peers:

  bpnet     the BPNet of ``tests/fixtures/bpnet_lite_small.npz`` (bpnet-lite 1.1.0
            layout: 32 filters, 8 dilated layers, 2 profile outputs, 2 control tracks,
            2,114-nt input), converted to Flax for our side and loaded into bpnet-lite for
            the peer, control zeros on both; scores ``log_count_diff`` and ``JSD``. Peer:
            ``tangermeme.variant_effect.substitution_effect`` (tangermeme 1.6,
            ``--torch_python``'s venv) on the same windows one-hot encoded up front (not
            timed), in batches of ``--batch_size``, the two scores in NumPy.
  enformer  enformer-pytorch 0.8.12 ``Enformer.from_hparams`` in the reference benchmark's
            size (``reference_inputs.ENFORMER``: dim 384, depth 4, 8 heads, 24,576 nt ->
            160 bins of 128 nt, human 5,313 / mouse 1,643 tracks), seeded weights saved by
            the peer's venv and converted with ``genereg_jax.models.enformer.load_pretrained``;
            SAD of the human head (sum over bins of ALT - REF, 5,313 tracks). Peer: gReLU 1.1
            ``grelu.variant.predict_variant_effects`` (``--grelu_python``: gReLU 1.1.0 with
            torch 2.13.0) with the enformer-pytorch model inside a ``grelu.lightning
            .LightningModel`` (regression, identity activation), ``prediction_transform=
            Aggregate(length_aggfunc="sum")`` and ``compare_func="subtract"``: gReLU's SAD.
            gReLU's window starts one base right of ours (0-based start ``pos - ceil(L /
            2)`` against ``pos - 1 - L // 2``; its variant at index ``L / 2 - 1``, ours at
            ``L / 2``, the first base of a 128-nt bin for even L), so the sides' SADs are
            of different windows; the gReLU side also calls enformer-pytorch directly on
            both windows for the first variants (untimed), and the comparison reports
            each side against the direct SAD of its own window.

Each side is one fresh process (``timing.run_child``: waits for a quiet machine, records
the load) that scores the VCF twice and reports the second pass (the first compiles /
warms up; ``--warmup_variants=N`` warms up on the first N variants only, enough for
Enformer, whose batches are all padded to one shape), as variants/s. Ours is ``genereg_jax.variants.scoring.Scorer`` end
to end from parsed VCF records and the FASTA (windows, one-hot, the jitted model, the
scores); for SNVs with ``--cone`` (default) the REF activations are reused and
only the SNV's receptive cone recomputed for the ALT (`scoring.ConeSubstitutions`;
``--no-cone``: whole ALT windows; Enformer: the stem and conv tower through the cone,
the transformer and heads on the whole ALT), and for BPNet with ``--region`` (default)
nearby SNVs share REF passes of up to ``--pack_length`` bases
(`scoring.Scorer.predict_packed_snvs`; exact for this BPNet, whose outputs never see a
window's padding; ``--no-region``: one REF window per SNV, as before; Enformer's
transformer sees its whole window, so it never shares). Rounds alternate which side goes first; ratios per round and their
median.
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
ENFORMER_LENGTH = 24_576  # reference_inputs.ENFORMER_LENGTH
CHROM_LENGTH = 400_000
BASES = "ACGT"
PEERS = {"bpnet": "tangermeme", "enformer": "grelu"}
CHECKED = 4  # Enformer variants whose SAD is also computed directly with enformer-pytorch.


def prepare(workdir: str, variants: int, seed: int, model: str) -> dict:
  """Writes ``genome.fa`` and ``<model>.vcf``; returns their paths."""
  os.makedirs(workdir, exist_ok=True)
  rng = np.random.default_rng(seed)
  chrom = "".join(rng.choice(list(BASES), CHROM_LENGTH))
  genome = os.path.join(workdir, "genome.fa")
  with open(genome, "w") as f:
    f.write(">chr1\n" + "".join(chrom[i:i + 80] + "\n" for i in range(0, len(chrom), 80)))
  with open(genome + ".sizes", "w") as f:  # gReLU's custom genomes need it.
    f.write(f"chr1\t{CHROM_LENGTH}\n")
  margin = (LENGTH if model == "bpnet" else ENFORMER_LENGTH) // 2 + 1000
  rng = np.random.default_rng([seed, len(model)])
  positions = np.sort(rng.choice(np.arange(margin, CHROM_LENGTH - margin), variants,
                                 replace=False))
  vcf = os.path.join(workdir, f"{model}.vcf")
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


def _our_model(args):
  """``(jitted one-hot -> outputs, SNV predictor or None, input length, scores)`` of
  ``args.model`` in Flax; the SNV predictor (with ``--cone``) is
  `scoring.ConeSubstitutions` of the model's receptive-cone split (`bpnet.cone_model`,
  `enformer.cone_model`: stem + conv tower through the cone, the transformer and heads
  on the whole ALT)."""
  import jax
  from genereg_jax.variants import scoring
  if args.model == "bpnet":
    from genereg_jax.models import bpnet as bpnet_lib
    model, params = bpnet_lib.load_bpnet_lite(WEIGHTS, prefix=PREFIX)

    def readout(out):
      return {"profile_probs": jax.nn.softmax(out["profile_logits"], axis=1),
              "log_counts": out["log_counts"]}
    snvs = (scoring.ConeSubstitutions(bpnet_lib.cone_model(model, params), readout)
            if args.cone else None)
    return (jax.jit(lambda x: readout(model.apply({"params": params}, x.astype(np.float32)))),
            snvs, LENGTH, ["log_count_diff", "JSD"])
  from genereg_jax.models import enformer
  model, variables = enformer.load_pretrained(_enformer_weights(args.workdir),
                                              target_length=160)
  human = lambda out: {"human": out["human"]}
  snvs = (scoring.ConeSubstitutions(enformer.cone_model(model, variables, human))
          if args.cone else None)
  return (jax.jit(lambda x: human(model.apply(variables, x.astype(np.float32)))),
          snvs, ENFORMER_LENGTH, ["SAD"])


def side_ours(args) -> dict:
  """Our scorer on the VCF, twice; the second pass timed."""
  import jax
  from genereg_jax.data import genome as genome_lib
  from genereg_jax.variants import scoring
  from genereg_jax.variants import vcf

  fn, snvs, length, scores = _our_model(args)

  class Predictor:
    input_length, data_devices = length, 1

    def __call__(self, one_hot):
      return {k: np.asarray(v) for k, v in fn(one_hot).items()}

  class ConePredictor(Predictor):
    def predict_snvs(self, x, position, value):
      return snvs(x, position, value)

    def predict_snv_region(self, sequence, starts, values):
      return snvs.region(sequence, starts, values, length)

  with open(args.vcf) as f:
    records = list(vcf.records(iter(enumerate(f, 1))))
  batch_size = args.batch_size if args.model == "bpnet" else args.enformer_batch_size
  with genome_lib.Genome(args.genome) as genome:
    scorer = scoring.Scorer(ConePredictor() if snvs else Predictor(), genome, scores,
                            batch_size=batch_size,
                            pack_length=args.pack_length
                            if args.region and snvs and snvs.padding_free else 0)
    scorer.score_records(_warmup(records, args))  # Warm-up: compiles the model.
    start = time.perf_counter()
    rows, issues = scorer.score_records(records)
    seconds = time.perf_counter() - start
  assert not issues, issues[:3]
  result = {"side": "ours", "variants": len(rows), "seconds": seconds,
            "variants_per_s": len(rows) / seconds, "device": str(jax.devices()[0]),
            "batch_size": batch_size, "cone": bool(snvs),
            "ref_passes": scorer.num_packs or None}
  if args.model == "bpnet":
    return {**result, **_scores_summary(
        [r.scores[("log_counts", "log_count_diff")] for r in rows],
        [r.scores[("profile_probs", "JSD")] for r in rows])}
  sad = os.path.join(args.workdir, "enformer_sad_ours.npy")
  np.save(sad, np.stack([r.scores[("human", "SAD")] for r in rows]).astype(np.float32))
  return {**result, "sad": sad}


def _warmup(records, args):
  """The records the untimed first pass scores: all, or the first ``--warmup_variants``."""
  return records[:args.warmup_variants] if args.warmup_variants > 0 else records


def _enformer_weights(workdir: str) -> str:
  return os.path.join(workdir, "enformer_pytorch.npz")


def side_enformer_weights(args) -> dict:
  """Seeded enformer-pytorch weights in the reference benchmark's size, as ``.npz``."""
  import torch
  import enformer_pytorch
  from experiments.benchmarks import reference_inputs
  torch.manual_seed(args.seed)
  module = enformer_pytorch.Enformer.from_hparams(**reference_inputs.ENFORMER)
  path = _enformer_weights(args.workdir)
  np.savez(path, **{k: v.detach().numpy() for k, v in module.state_dict().items()})
  return {"side": "enformer_weights", "path": path}


def side_grelu(args) -> dict:
  """gReLU's predict_variant_effects (SAD) with enformer-pytorch, twice; second timed."""
  from importlib import metadata
  import pandas as pd
  import torch
  import enformer_pytorch
  from grelu.lightning import LightningModel
  from grelu.transforms.prediction_transforms import Aggregate
  from grelu.variant import predict_variant_effects
  from experiments.benchmarks import reference_inputs

  class HumanHead(torch.nn.Module):
    """enformer-pytorch as a gReLU model: ``[B, 4, L]`` -> human ``[B, tracks, bins]``."""

    def __init__(self, module):
      super().__init__()
      self.module = module

    def forward(self, x):
      return self.module(x.transpose(1, 2), head="human").transpose(1, 2)

  module = enformer_pytorch.Enformer.from_hparams(**reference_inputs.ENFORMER)
  with np.load(_enformer_weights(args.workdir)) as data:
    module.load_state_dict({k: torch.from_numpy(data[k]) for k in data.files})
  model = LightningModel(model_params={"model_type": "ConvModel", "n_tasks": 1},
                         train_params={"task": "regression", "loss": "mse"})
  model.model = HumanHead(module).eval()
  variants = []
  with open(args.vcf) as f:
    for line in f:
      if not line.startswith("#"):
        chrom, pos, _, ref, alt = line.split("\t")[:5]
        variants.append((chrom, int(pos), ref, alt))
  table = pd.DataFrame(variants, columns=["chrom", "pos", "ref", "alt"])

  def run(variant_table=table):
    return predict_variant_effects(
        variant_table, model, devices="cpu", seq_len=ENFORMER_LENGTH,
        batch_size=args.enformer_batch_size, genome=args.genome, compare_func="subtract",
        return_ad=False, prediction_transform=Aggregate(length_aggfunc="sum"))

  torch.set_grad_enabled(False)
  os.chdir(args.workdir)  # Lightning's predict writes lightning_logs/ into the cwd.
  run(_warmup(table, args))
  start = time.perf_counter()
  sad = np.asarray(run())[..., 0]  # [variants, tracks]
  seconds = time.perf_counter() - start
  path = os.path.join(args.workdir, "enformer_sad_grelu.npy")
  np.save(path, sad.astype(np.float32))
  # Untimed check of both window conventions on the first variants: enformer-pytorch
  # called directly on gReLU's windows and on ours.
  with open(args.genome) as f:
    codes = np.frombuffer("".join(l.strip() for l in f if not l.startswith(">")).encode(),
                          np.uint8)
  eye = np.zeros((256, 4), np.float32)
  eye[np.frombuffer(BASES.encode(), np.uint8)] = np.eye(4, dtype=np.float32)
  direct = {}
  for name, offset in (("grelu", -((ENFORMER_LENGTH + 1) // 2)),
                       ("ours", -1 - ENFORMER_LENGTH // 2)):
    sads = []
    for _, pos, _, alt in variants[:CHECKED]:
      x = eye[codes[pos + offset:pos + offset + ENFORMER_LENGTH]]
      y = x.copy()
      y[pos - 1 - (pos + offset)] = eye[ord(alt)]
      out = module(torch.from_numpy(np.stack([x, y])), head="human").sum(1).numpy()
      sads.append(out[1] - out[0])
    direct[name] = os.path.join(args.workdir, f"enformer_sad_direct_{name}.npy")
    np.save(direct[name], np.stack(sads))
  return {"side": "grelu", "direct": direct, "variants": len(variants), "seconds": seconds,
          "variants_per_s": len(variants) / seconds, "threads": torch.get_num_threads(),
          "grelu": metadata.version("grelu"), "torch": torch.__version__,
          "batch_size": args.enformer_batch_size, "sad": path}


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

  def run(count=len(variants)):
    before, after = [], []
    for s in range(0, count, args.batch_size):
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
  run(len(_warmup(variants, args)))
  start = time.perf_counter()
  log_count_diff, jsd = run()
  seconds = time.perf_counter() - start
  return {"side": "tangermeme", "variants": len(variants), "seconds": seconds,
          "variants_per_s": len(variants) / seconds, "threads": torch.get_num_threads(),
          **_scores_summary(log_count_diff, jsd)}


SIDES = {"ours": side_ours, "tangermeme": side_tangermeme, "grelu": side_grelu,
         "enformer_weights": side_enformer_weights}


def _agreement(ours: dict, peer: dict) -> dict:
  """How closely the two sides' scores agree."""
  if "sad" in ours:
    a, b = np.load(ours["sad"]), np.load(peer["sad"])
    on_ours, on_grelu = (np.load(peer["direct"][k]) for k in ("ours", "grelu"))
    n = len(on_ours)
    return {"sad_pearson_r": float(np.corrcoef(a.ravel(), b.ravel())[0, 1]),
            "sad_max_abs": float(np.max(np.abs(b))),
            f"first_{n}_ours_vs_torch_on_our_windows": float(np.max(np.abs(a[:n] - on_ours))),
            f"first_{n}_grelu_vs_torch_on_its_windows": float(
                np.max(np.abs(b[:n] - on_grelu)))}
  return {k: float(np.max(np.abs(np.subtract(ours[k], peer[k]))))
          for k in ("log_count_diff", "jsd")}


def compare(args, model: str, pythons: dict, env: dict) -> dict:
  """Rounds of our side and ``model``'s peer, each in a fresh process."""
  inputs = prepare(args.workdir, args.variants, args.seed, model)
  common = [f"--model={model}", f"--genome={inputs['genome']}", f"--vcf={inputs['vcf']}",
            "--cone" if args.cone else "--no-cone",
            "--region" if args.region else "--no-region", f"--pack_length={args.pack_length}",
            f"--workdir={args.workdir}", f"--seed={args.seed}",
            f"--batch_size={args.batch_size}",
            f"--enformer_batch_size={args.enformer_batch_size}",
            f"--warmup_variants={args.warmup_variants}"]
  peer = PEERS[model]
  child = lambda python, side: timing.run_child(
      [python, "-m", "experiments.benchmarks.variant_scoring", f"--side={side}", *common],
      cwd=REPO, env=env, max_wait_s=args.max_wait_s)
  if model == "enformer":
    made = child(pythons[peer] or pythons["tangermeme"], "enformer_weights")
    if "error" in made:
      raise SystemExit(f"enformer weights: {made['error']}")
  sides = [s for s in ("ours", peer) if pythons[s]]
  rates: dict[str, dict[int, float]] = {s: {} for s in sides}
  results = []
  for round_index, order in enumerate(timing.round_orders(sides, args.rounds)):
    for side in order:
      r = child(pythons[side], side)
      r.update(round=round_index, model=model)
      results.append(r)
      if "error" in r:
        print(f"{model} round {round_index} {side}: {r['error']}", flush=True)
        continue
      rates[side][round_index] = r["variants_per_s"]
      print(f"{model} round {round_index} {side}: {r['variants_per_s']:.2f} variants/s "
            f"({r['variants']} in {r['seconds']:.1f} s; load {r['load_before'][0]:.1f} -> "
            f"{r['load_after'][0]:.1f}{', LOADED' if r['loaded'] else ''})", flush=True)
  summary = {"model": model, "peer": peer, "variants": args.variants}
  if len(sides) == 2:
    summary[f"ratio_ours_over_{peer}"] = timing.round_ratios(rates["ours"], rates[peer])
    done = {r["side"]: r for r in results if "error" not in r}
    if len(done) == 2:
      summary["agreement"] = _agreement(done["ours"], done[peer])
  print(json.dumps(summary), flush=True)
  return {"summary": summary, "runs": [
      {k: v for k, v in r.items() if k not in ("log_count_diff", "jsd")} for r in results]}


def main() -> None:
  p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  p.add_argument("--side", choices=tuple(SIDES))
  p.add_argument("--model", choices=tuple(PEERS), default="bpnet", help="with --side")
  p.add_argument("--models", default="bpnet,enformer")
  p.add_argument("--workdir", default="/tmp/variant_scoring_bench")
  p.add_argument("--genome")
  p.add_argument("--vcf")
  p.add_argument("--variants", type=int, default=2000)
  p.add_argument("--batch_size", type=int, default=64, help="BPNet windows per call")
  p.add_argument("--enformer_batch_size", type=int, default=4,
                 help="Enformer windows per call (both sides)")
  p.add_argument("--rounds", type=int, default=2)
  p.add_argument("--warmup_variants", type=int, default=0,
                 help="untimed first pass over this many variants (0: the whole VCF)")
  p.add_argument("--cone", action=argparse.BooleanOptionalAction, default=True,
                 help="SNVs through receptive-cone reuse (scoring.ConeSubstitutions)")
  p.add_argument("--region", action=argparse.BooleanOptionalAction, default=True,
                 help="with --cone: REF passes shared by nearby SNVs' windows "
                      "(Scorer.predict_packed_snvs); --no-region: one REF pass per SNV")
  p.add_argument("--pack_length", type=int, default=65_536,
                 help="longest shared REF pass in bases (Scorer pack_length)")
  p.add_argument("--seed", type=int, default=14)
  p.add_argument("--torch_python", default=None, help="venv with tangermeme + bpnet-lite")
  p.add_argument("--grelu_python", default=None, help="venv with grelu 1.1")
  p.add_argument("--max_wait_s", type=float, default=300.0)
  p.add_argument("--output", default=None)
  args = p.parse_args()
  args.workdir = os.path.abspath(args.workdir)  # The gReLU side changes directory.
  if args.side:
    print(json.dumps(SIDES[args.side](args)))
    return
  pythons = {"ours": sys.executable, "tangermeme": args.torch_python,
             "grelu": args.grelu_python}
  env = dict(os.environ, PYTHONPATH=REPO + os.pathsep + os.environ.get("PYTHONPATH", ""))
  models = [m.strip() for m in args.models.split(",") if m.strip()]
  unknown = sorted(set(models) - set(PEERS))
  if unknown:
    raise SystemExit(f"unknown models {unknown}; known: {', '.join(PEERS)}")
  reports = [compare(args, model, pythons, env) for model in models]
  if args.output:
    with open(args.output, "w") as f:
      json.dump(reports, f, indent=2)


if __name__ == "__main__":
  main()
