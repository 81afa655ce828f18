r"""SpliceAI variant scoring, ours against the official ``spliceai`` 1.3.1 command line.

  python -m experiments.benchmarks.spliceai_scoring                         # ~200 variants
  python -m experiments.benchmarks.spliceai_scoring --variants=300 --output=r.json \
      --official_cli=/work/tf-venv/bin/spliceai --workdir=/tmp/spliceai_bench

Run it from the repository root with the project's Python. The official tool runs in a
separate virtual environment with TensorFlow (never a dependency of genereg_jax; see
``experiments/benchmarks/README.md`` for the exact install), passed as ``--official_cli``
(its ``python`` beside it runs the precision check and the model-only timing below).

Inputs (written to ``--workdir``, deterministic in ``--seed``):

  genome.fa      two chromosomes of i.i.d. background holding designed genes from
                 ``data_builders.synthetic_splicing.sample_gene`` (consensus donors,
                 branch points, polypyrimidine tracts, acceptors) on both strands, at
                 least 5,100 nt from the chromosome ends, plus one gene that starts
                 300 nt into chr2 (edge gene) and an antisense transcript overlapping
                 a plus-strand gene (records in both get two entries).
  genes.txt      the genes as a SpliceAI annotation table (``#NAME CHROM STRAND
                 TX_START TX_END EXON_START EXON_END``, comma-terminated exon lists).
  variants.vcf   ``--variants`` records inside genes, sorted: about half within 12 nt of
                 an exon boundary (large deltas), the rest anywhere in the transcript;
                 ~76 % SNVs, ~10 % deletions (REF 2-6 nt), ~8 % insertions (ALT 2-5 nt),
                 ~3 % two-ALT records, ~2 % complex (REF and ALT > 1 nt: dots), a few
                 outside every gene, and ``--edge_variants`` within 5,050 nt of the
                 start of chr2, which the official tool skips (pyfaidx returns an
                 empty window that starts before the chromosome, so the record fails
                 its REF check: "Skipping record (ref issue)") and ours scores with N
                 padding.

Both command lines are run back to back as fresh processes (ours first, then the
official; ``--rounds`` alternates the order), each on the full
VCF (end to end: imports, weight loading, compilation, scoring, writing) and on a
one-record VCF (the same startup with one SNV scored; ours with ``--batch_size=2``, its
two windows, rather than a padded batch of 32), so ``startup`` ~ the one-record time
and the steady rate = (records - 1) / (full - one-record time). variants/s counts VCF
records. Both outputs are parsed and compared entry by entry (keyed by record,
ALT and gene): ``|delta DS|`` of the printed two-decimal scores, DP mismatches, dot
entries, and entries present in only one output.

Printed scores have two decimals, so the same computation can differ there by 0.01 when
a score lies near a rounding boundary. ``--precise_records`` (default 40, spread evenly
over the VCF) are therefore scored once more at full precision: ours through the
library (`SpliceAIScorer`, unrounded ``GeneScore.scores``), the official through its own
``spliceai.utils.get_delta_scores`` with the format string ``{:.2f}`` replaced by
``{:.6f}`` and nothing else changed (run with the official environment's Python, this
file as a script: ``--side=official_precise``).

``--rounds=N`` repeats the timed pair, alternating which tool goes first (medians and
per-round ratios are reported). Last, "model only" times the bare five-model ensemble
on random windows of ``10,000 + 2d + 1`` nt, no VCF work: ours the scorer's jitted
`Predictor` on ``--batch_size`` windows per call, the official five Keras
``model.predict`` calls on one window averaged, as ``get_delta_scores`` does (ensemble
windows/s; per VCF entry the official tool evaluates two windows, REF and ALT).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np

SCORE_FIELDS = ("DS_AG", "DS_AL", "DS_DG", "DS_DL")
CHROMOSOMES = ("chr1", "chr2")
FLANK = 5_100          # Background before the first / after the last gene (> 5,050).
EDGE_GENE_START = 300  # The edge gene on chr2 starts here (its windows cross the start).
_COMPLEMENT = str.maketrans("ACGT", "TGCA")


def _repo_root() -> str:
  return os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


# ----------------------------------------------------------------------------------
# Synthetic inputs.
# ----------------------------------------------------------------------------------


def _background(rng: np.random.Generator, n: int, gc: float = 0.42) -> str:
  at = (1 - gc) / 2
  return "".join(np.array(list("ACGT"))[rng.choice(4, n, p=[at, gc / 2, gc / 2, at])])


def _designed_gene(rng: np.random.Generator, config) -> tuple[str, list[tuple[int, int]]]:
  """A gene 5'->3' as text and its exons (0-based half-open, gene coordinates)."""
  from data_builders.synthetic_splicing import synthetic_splicing
  gene = synthetic_splicing.sample_gene(rng, config)
  return "".join(np.array(list("ACGT"))[gene.bases]), list(gene.exons)


def make_genome(seed: int) -> tuple[dict[str, str], list[dict]]:
  """Chromosome sequences and transcripts (dicts in the annotation table's terms)."""
  from data_builders.synthetic_splicing import synthetic_splicing
  config = synthetic_splicing.SyntheticSplicingConfig(
      name="benchmark", num_exons=(3, 7), intron_length=(80, 1500))
  layout = {"chr1": ["+", "-", "+", "-"], "chr2": ["edge+", "-", "+"]}
  chroms, transcripts = {}, []
  for chrom_index, (chrom, strands) in enumerate(layout.items()):
    rng = np.random.default_rng([seed, chrom_index])
    parts, position = [], 0
    for gene_index, strand in enumerate(strands):
      gap = (EDGE_GENE_START if strand == "edge+" else
             FLANK if gene_index == 0 else int(rng.integers(800, 2000)))
      if strand != "edge+":  # Only the edge gene comes within 5,050 nt of an end.
        gap = max(gap, FLANK - position)
      parts.append(_background(rng, gap))
      position += gap
      bases, exons = _designed_gene(
          np.random.default_rng([seed, chrom_index, gene_index]), config)
      length = len(bases)
      if strand == "-":
        bases = bases.translate(_COMPLEMENT)[::-1]
        exons = sorted((length - end, length - start) for start, end in exons)
      name = f"G{chrom_index + 1}{gene_index + 1}"
      transcripts.append(dict(name=name, chrom=chrom, strand=strand[-1],
                              tx_start=position, tx_end=position + length,
                              exons=[(position + s, position + e) for s, e in exons],
                              edge=strand == "edge+"))
      parts.append(bases)
      position += length
    parts.append(_background(rng, FLANK))
    chroms[chrom] = "".join(parts)
  # An antisense transcript over the second half of chr1's first gene and beyond: records
  # there get two entries. Its exons are arbitrary (no designed sites on this strand).
  first = transcripts[0]
  start = (first["tx_start"] + first["tx_end"]) // 2
  end = first["tx_end"] + 600
  exons = [(start, start + 150), ((start + end) // 2, (start + end) // 2 + 120),
           (end - 200, end)]
  transcripts.insert(1, dict(name="AS11", chrom="chr1", strand="-", tx_start=start,
                             tx_end=end, exons=exons, edge=False))
  return chroms, transcripts


def make_variants(chroms: dict[str, str], transcripts: list[dict], count: int,
                  edge_count: int, seed: int) -> list[tuple[str, int, str, str]]:
  """``count`` sorted, distinct ``(chrom, pos, ref, alts)`` records (1-based pos)."""
  rng = np.random.default_rng([seed, 99])
  inner = [t for t in transcripts if not t["edge"]]
  edge = [t for t in transcripts if t["edge"]]
  chosen: dict[tuple[str, int], tuple[str, int, str, str]] = {}

  def record(chrom: str, pos: int) -> tuple[str, int, str, str]:
    seq = chroms[chrom]
    ref = seq[pos - 1]
    others = [b for b in "ACGT" if b != ref]
    kind = rng.random()
    if kind < 0.76:
      return chrom, pos, ref, str(rng.choice(others))
    if kind < 0.86:
      length = int(rng.integers(2, 7))
      return chrom, pos, seq[pos - 1:pos - 1 + length], ref
    if kind < 0.94:
      inserted = "".join(rng.choice(list("ACGT"), int(rng.integers(1, 5))))
      return chrom, pos, ref, ref + inserted
    if kind < 0.97:
      first, second = rng.choice(others, 2, replace=False)
      return chrom, pos, ref, f"{first},{second}"
    length = int(rng.integers(2, 4))
    return chrom, pos, seq[pos - 1:pos - 1 + length], "".join(
        rng.choice(list("ACGT"), int(rng.integers(2, 4))))

  def add(chrom: str, pos: int) -> None:
    if (chrom, pos) not in chosen:
      chosen[(chrom, pos)] = record(chrom, pos)

  intergenic = max(count // 50, 2)
  edge_count = min(edge_count, count)
  while len(chosen) < count - intergenic - edge_count:
    t = inner[int(rng.integers(len(inner)))]
    if rng.random() < 0.5:
      boundary = [s + 1 for s, _ in t["exons"]] + [e for _, e in t["exons"]]
      pos = int(rng.choice(boundary)) + int(rng.integers(-12, 13))
    else:
      pos = int(rng.integers(t["tx_start"] + 1, t["tx_end"] + 1))
    if t["tx_start"] < pos <= t["tx_end"] - 6:
      add(t["chrom"], pos)
  for t in edge:
    while sum(1 for c, p in chosen if c == t["chrom"] and p <= t["tx_end"]) < edge_count:
      add(t["chrom"], int(rng.integers(t["tx_start"] + 1, min(t["tx_end"] - 6, 5_000))))
  spans = [(t["chrom"], t["tx_start"], t["tx_end"]) for t in transcripts]
  while len(chosen) < count:
    chrom = CHROMOSOMES[int(rng.integers(2))]
    pos = int(rng.integers(FLANK // 2, len(chroms[chrom]) - FLANK // 2))
    if not any(c == chrom and s < pos + 6 and pos - 1 <= e for c, s, e in spans):
      add(chrom, pos)
  return sorted(chosen.values(), key=lambda r: (CHROMOSOMES.index(r[0]), r[1]))


def write_inputs(workdir: str, count: int, edge_count: int, seed: int) -> dict:
  """genome.fa, genes.txt, variants.vcf and one.vcf (one SNV) under ``workdir``: their
  paths, plus ``records`` and ``transcripts``."""
  os.makedirs(workdir, exist_ok=True)
  chroms, transcripts = make_genome(seed)
  paths = {name: os.path.join(workdir, name)
           for name in ("genome.fa", "genes.txt", "variants.vcf", "one.vcf")}
  for stale in (paths["genome.fa"] + ".fai",):
    if os.path.exists(stale):
      os.remove(stale)
  with open(paths["genome.fa"], "w") as f:
    for name, seq in chroms.items():
      f.write(f">{name}\n" + "".join(seq[i:i + 60] + "\n" for i in range(0, len(seq), 60)))
  with open(paths["genes.txt"], "w") as f:
    f.write("#NAME\tCHROM\tSTRAND\tTX_START\tTX_END\tEXON_START\tEXON_END\n")
    for t in transcripts:
      starts = "".join(f"{s}," for s, _ in t["exons"])
      ends = "".join(f"{e}," for _, e in t["exons"])
      f.write(f"{t['name']}\t{t['chrom']}\t{t['strand']}\t{t['tx_start']}\t{t['tx_end']}"
              f"\t{starts}\t{ends}\n")
  records = make_variants(chroms, transcripts, count, edge_count, seed)
  header = (["##fileformat=VCFv4.2"]
            + [f"##contig=<ID={c},length={len(s)}>" for c, s in chroms.items()]
            + ["#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO"])

  def write_vcf(path, rows):
    with open(path, "w") as f:
      f.write("\n".join(header) + "\n")
      for chrom, pos, ref, alts in rows:
        f.write(f"{chrom}\t{pos}\t.\t{ref}\t{alts}\t.\t.\t.\n")

  write_vcf(paths["variants.vcf"], records)
  inner = [t for t in transcripts if not t["edge"]]
  one = next(r for r in records if len(r[2]) == 1 and len(r[3]) == 1
             and any(t["chrom"] == r[0] and t["tx_start"] < r[1] <= t["tx_end"]
                     for t in inner))
  write_vcf(paths["one.vcf"], [one])
  paths["records"] = records
  paths["transcripts"] = transcripts
  return paths


def subset_vcf(source: str, path: str, count: int) -> None:
  """``count`` records of ``source`` spread evenly over it."""
  with open(source) as f:
    lines = f.read().splitlines()
  header = [l for l in lines if l.startswith("#")]
  body = [l for l in lines if not l.startswith("#")]
  picked = sorted(set(np.linspace(0, len(body) - 1, min(count, len(body))).astype(int)))
  with open(path, "w") as f:
    f.write("\n".join(header + [body[i] for i in picked]) + "\n")


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


# ----------------------------------------------------------------------------------
# Running the two tools.
# ----------------------------------------------------------------------------------


def _timed(command: list[str], timeout: float, env: dict | None = None) -> dict:
  start = time.perf_counter()
  done = subprocess.run(command, cwd=_repo_root(), capture_output=True, text=True,
                        timeout=timeout, env=env)
  wall = time.perf_counter() - start
  if done.returncode:
    raise RuntimeError(f"{' '.join(command)} exited {done.returncode}:\n"
                       f"{done.stderr[-3000:]}")
  return {"wall_s": wall, "stdout": done.stdout, "stderr": done.stderr[-4000:]}


def run_ours(vcf: str, fasta: str, annotation: str, out: str, distance: int,
             batch_size: int, timeout: float) -> dict:
  return _timed([sys.executable, "-m", "experiments.score_variants", "--config=spliceai_10k",
                 f"--vcf={vcf}", f"--fasta={fasta}", f"--annotation={annotation}",
                 f"--out={out}", f"--distance={distance}", f"--batch_size={batch_size}"],
                timeout)


def run_official(cli: str, vcf: str, fasta: str, annotation: str, out: str, distance: int,
                 timeout: float) -> dict:
  env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
  return _timed([cli, "-I", vcf, "-O", out, "-R", fasta, "-A", annotation,
                 "-D", str(distance)], timeout, env)


def precise_ours(vcf: str, fasta: str, annotation: str, distance: int,
                 batch_size: int) -> dict[tuple, list[str]]:
  """Unrounded entries from the library (same arithmetic as the command line)."""
  from genereg_jax.data import gene_annotation
  from genereg_jax.models import spliceai
  from genereg_jax.variants import spliceai_scoring as ss
  genome = gene_annotation.Genome(fasta)
  scorer = ss.SpliceAIScorer(
      ss.Predictor(spliceai.SpliceAIEnsemble(), spliceai.load_official_weights(None)),
      10_000, genome, ss.GeneIndex(gene_annotation.load_annotation(annotation)),
      distance=distance, batch_size=batch_size)
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


def official_precise_side(args) -> None:
  """Child in the official environment: get_delta_scores with 6 printed decimals."""
  import inspect
  import types
  import pysam
  import spliceai.utils as utils
  source = inspect.getsource(utils)
  assert source.count("{:.2f}") == 4, "unexpected spliceai.utils source"
  module = types.ModuleType("spliceai.utils")
  module.__file__ = utils.__file__
  exec(compile(source.replace("{:.2f}", "{:.6f}"), utils.__file__, "exec"),
       module.__dict__)
  start = time.perf_counter()
  annotator = module.Annotator(args.fasta, args.annotation)
  loaded = time.perf_counter()
  entries = []
  vcf = pysam.VariantFile(args.vcf)
  for record in vcf:
    for entry in module.get_delta_scores(record, annotator, args.distance, 0):
      entries.append([record.chrom, record.pos, record.ref, ",".join(record.alts), entry])
  print(json.dumps({"load_s": loaded - start, "score_s": time.perf_counter() - loaded,
                    "entries": entries}))


def precise_official(cli: str, vcf: str, fasta: str, annotation: str, distance: int,
                     timeout: float) -> tuple[dict[tuple, list[str]], dict]:
  python = os.path.join(os.path.dirname(cli), "python")
  env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
  # This file as a script, so that the experiments package (which imports JAX) is not.
  run = _timed([python, os.path.abspath(__file__), "--side=official_precise",
                f"--vcf={vcf}", f"--fasta={fasta}", f"--annotation={annotation}",
                f"--distance={distance}"], timeout, env)
  result = json.loads(run["stdout"].strip().splitlines()[-1])
  entries = {}
  for chrom, pos, ref, alts, entry in result["entries"]:
    fields = entry.split("|")
    entries[(chrom, pos, ref, alts, fields[0], fields[1])] = fields[2:]
  return entries, {"wall_s": run["wall_s"], "load_s": result["load_s"],
                   "score_s": result["score_s"]}


# ----------------------------------------------------------------------------------
# Model only: ensemble windows/s of each side, no VCF, FASTA or annotation work.
# ----------------------------------------------------------------------------------


def _random_windows(count: int, width: int, seed: int = 0) -> np.ndarray:
  index = np.random.default_rng(seed).integers(0, 4, (count, width))
  return np.eye(4, dtype=np.uint8)[index]


def model_only_ours(width: int, batch_size: int, reps: int) -> dict:
  """The scorer's jitted five-model ensemble on ``batch_size`` windows at a time."""
  from genereg_jax.models import spliceai
  from genereg_jax.variants import spliceai_scoring as ss
  start = time.perf_counter()
  predict = ss.Predictor(spliceai.SpliceAIEnsemble(), spliceai.load_official_weights(None))
  loaded = time.perf_counter()
  x = _random_windows(batch_size, width)
  np.asarray(predict(x))
  compiled = time.perf_counter()
  times = []
  for _ in range(reps):
    t = time.perf_counter()
    np.asarray(predict(x))
    times.append(time.perf_counter() - t)
  return {"load_s": loaded - start, "compile_and_first_s": compiled - loaded,
          "batch_size": batch_size, "batch_s": times,
          "ensemble_windows_per_s": batch_size / float(np.median(times))}


def official_model_side(args) -> None:
  """Child in the official environment: what get_delta_scores does per window."""
  from pkg_resources import resource_filename
  from keras.models import load_model
  start = time.perf_counter()
  models = [load_model(resource_filename("spliceai", f"models/spliceai{i}.h5"))
            for i in range(1, 6)]
  loaded = time.perf_counter()
  x = _random_windows(1, args.width).astype(np.int64)  # one_hot_encode's dtype.
  run = lambda: np.mean([m.predict(x) for m in models], axis=0)
  run()
  first = time.perf_counter()
  times = []
  for _ in range(args.reps):
    t = time.perf_counter()
    run()
    times.append(time.perf_counter() - t)
  print(json.dumps({"load_s": loaded - start, "compile_and_first_s": first - loaded,
                    "batch_size": 1, "batch_s": times,
                    "ensemble_windows_per_s": 1 / float(np.median(times))}))


def model_only_official(cli: str, width: int, reps: int, timeout: float) -> dict:
  python = os.path.join(os.path.dirname(cli), "python")
  env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
  run = _timed([python, os.path.abspath(__file__), "--side=official_model",
                f"--width={width}", f"--reps={reps}"], timeout, env)
  return json.loads(run["stdout"].strip().splitlines()[-1])


# ----------------------------------------------------------------------------------
# Driver.
# ----------------------------------------------------------------------------------


def _median(values) -> float:
  return float(np.median(values))


def time_side(side: str, args, inputs: dict, out: str) -> dict:
  """End-to-end wall times of one tool: the one-record VCF, then the full one."""
  fasta, genes = inputs["genome.fa"], inputs["genes.txt"]
  runs = {"load_before": os.getloadavg()}
  for name, path in (("one_record", inputs["one.vcf"]), ("full", inputs["variants.vcf"])):
    if name == "one_record" and args.skip_one_record:
      continue
    target = out if name == "full" else out + ".one.vcf"
    if side == "ours":
      # One record = two windows: batch 2, so that the startup run is not a padded
      # 32-window batch.
      run = run_ours(path, fasta, genes, target, args.distance,
                     args.batch_size if name == "full" else 2, args.timeout)
    else:
      run = run_official(args.official_cli, path, fasta, genes, target, args.distance,
                         args.timeout)
    runs[name] = run["wall_s"]
    print(f"{side:<8} {name:<10} {run['wall_s']:8.1f} s", flush=True)
    if side == "ours" and name == "full":
      print("         " + run["stdout"].strip().splitlines()[-1], flush=True)
  runs["load_after"] = os.getloadavg()
  records = len(inputs["records"])
  runs["variants_per_s"] = records / runs["full"]
  if "one_record" in runs and runs["full"] > runs["one_record"]:
    runs["steady_variants_per_s"] = (records - 1) / (runs["full"] - runs["one_record"])
  return runs


def _print_comparison(name: str, c: dict, digits: str) -> None:
  print(f"{name}: {c['entries_compared']} entries compared "
        f"({c['dot_entries_equal']} dot entries equal), max |dDS| "
        f"{c['max_abs_delta_ds']:{digits}}, {c['scores_differing']} entries with any DS "
        f"differing, {c['dp_mismatches']} DP mismatches, "
        f"{len(c['dot_entries_differing'])} dot mismatches; only ours "
        f"{len(c['only_ours'])}, only official {len(c['only_official'])}")
  for key in c["only_ours"][:10]:
    print(f"  only ours: {key}")
  for key in c["only_official"][:10]:
    print(f"  only official: {key}")


def main(argv=None) -> None:
  parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
  parser.add_argument("--variants", type=int, default=200, help="VCF records")
  parser.add_argument("--edge_variants", type=int, default=4,
                      help="of which within 5,050 nt of a chromosome start")
  parser.add_argument("--seed", type=int, default=0)
  parser.add_argument("--distance", type=int, default=50, help="-D of both tools")
  parser.add_argument("--batch_size", type=int, default=32, help="ours: windows per call")
  parser.add_argument("--official_cli", default="/work/tf-venv/bin/spliceai",
                      help="the official spliceai command (its venv's python runs the "
                      "precision check and the model-only timing)")
  parser.add_argument("--workdir", default="/tmp/spliceai_bench",
                      help="inputs and outputs are written here")
  parser.add_argument("--rounds", type=int, default=1,
                      help="repeat the (ours, official) pair, alternating which goes first")
  parser.add_argument("--precise_records", type=int, default=40,
                      help="records scored again at full precision by both (0: skip)")
  parser.add_argument("--model_reps", type=int, default=3,
                      help="timed ensemble calls per side for the model-only figure "
                      "(0: skip)")
  parser.add_argument("--skip_one_record", action="store_true",
                      help="skip the one-record runs (no startup / steady-rate split)")
  parser.add_argument("--timeout", type=float, default=7200.0, help="seconds per run")
  parser.add_argument("--output", default=None, help="also write the summary as JSON")
  parser.add_argument("--side", default="driver", help=argparse.SUPPRESS,
                      choices=("driver", "official_precise", "official_model"))
  for hidden in ("vcf", "fasta", "annotation"):
    parser.add_argument(f"--{hidden}", help=argparse.SUPPRESS)
  parser.add_argument("--width", type=int, default=10_101, help=argparse.SUPPRESS)
  parser.add_argument("--reps", type=int, default=3, help=argparse.SUPPRESS)
  args = parser.parse_args(argv)
  if args.side == "official_precise":
    official_precise_side(args)
    return
  if args.side == "official_model":
    official_model_side(args)
    return
  if not os.access(args.official_cli, os.X_OK):
    parser.error(f"--official_cli {args.official_cli} is not an executable; see "
                 "experiments/benchmarks/README.md for the environment")

  inputs = write_inputs(args.workdir, args.variants, args.edge_variants, args.seed)
  fasta, genes, vcf = inputs["genome.fa"], inputs["genes.txt"], inputs["variants.vcf"]
  out = {side: os.path.join(args.workdir, f"{side}.vcf") for side in ("ours", "official")}
  records = inputs["records"]
  kinds = {"snv": 0, "deletion": 0, "insertion": 0, "multi_alt": 0, "complex": 0}
  for _, _, ref, alts in records:
    kinds["multi_alt" if "," in alts else "complex" if len(ref) > 1 and len(alts) > 1
          else "deletion" if len(ref) > 1 else "insertion" if len(alts) > 1 else "snv"] += 1
  print(f"{len(records)} records ({kinds}) on {len(inputs['transcripts'])} transcripts "
        f"in {args.workdir}", flush=True)
  load_before = os.getloadavg()
  print("load average before: {:.2f} {:.2f} {:.2f}".format(*load_before),
        f"on {os.cpu_count()} CPUs", flush=True)

  rounds = []
  for round_ in range(args.rounds):
    order = ("ours", "official") if round_ % 2 == 0 else ("official", "ours")
    result = {"order": list(order)}
    for side in order:
      result[side] = time_side(side, args, inputs, out[side])
    result["ratio"] = result["ours"]["variants_per_s"] / result["official"]["variants_per_s"]
    if "steady_variants_per_s" in result["ours"] and "steady_variants_per_s" in result[
        "official"]:
      result["steady_ratio"] = (result["ours"]["steady_variants_per_s"]
                                / result["official"]["steady_variants_per_s"])
    rounds.append(result)
  load_after = os.getloadavg()

  n_ours, ours = parse_entries(out["ours"])
  n_official, official = parse_entries(out["official"])
  if n_ours != len(records) or n_official != len(records):
    raise RuntimeError(f"record counts differ: input {len(records)}, ours {n_ours}, "
                       f"official {n_official}")
  summary = {"records": len(records), "kinds": kinds,
             "transcripts": len(inputs["transcripts"]), "distance": args.distance,
             "seed": args.seed, "cpus": os.cpu_count(), "batch_size": args.batch_size,
             "load_average": {"before": load_before, "after": load_after},
             "rounds": rounds}
  for side in ("ours", "official"):
    summary[side] = {key: _median([r[side][key] for r in rounds])
                     for key in ("full", "one_record", "variants_per_s",
                                 "steady_variants_per_s") if key in rounds[0][side]}
  summary["ratio_ours_over_official"] = _median([r["ratio"] for r in rounds])
  if all("steady_ratio" in r for r in rounds):
    summary["steady_ratio_ours_over_official"] = _median([r["steady_ratio"] for r in rounds])
  summary["printed_scores"] = compare_entries(ours, official)

  if args.precise_records > 0:
    subset = os.path.join(args.workdir, "precise.vcf")
    subset_vcf(vcf, subset, args.precise_records)
    ours_precise = precise_ours(subset, fasta, genes, args.distance, args.batch_size)
    official_precise, run = precise_official(args.official_cli, subset, fasta, genes,
                                             args.distance, args.timeout)
    precise = compare_entries(ours_precise, official_precise)
    precise["records"] = args.precise_records
    precise["official_run"] = run
    summary["full_precision"] = precise

  if args.model_reps > 0:
    width = 10_000 + 2 * args.distance + 1
    summary["model_only"] = {
        "window": width,
        "ours": model_only_ours(width, args.batch_size, args.model_reps),
        "official": model_only_official(args.official_cli, width, args.model_reps,
                                        args.timeout)}

  print()
  print("medians over rounds")
  print(f"{'':<10}{'wall s':>9}{'variants/s':>12}{'1-record s':>12}{'steady v/s':>12}")
  for side in ("ours", "official"):
    s = summary[side]
    print(f"{side:<10}{s['full']:9.1f}{s['variants_per_s']:12.3f}"
          f"{s.get('one_record', float('nan')):12.1f}"
          f"{s.get('steady_variants_per_s', float('nan')):12.3f}")
  print(f"ratio ours / official: {summary['ratio_ours_over_official']:.2f}x end to end "
        "[" + ", ".join(f"{r['ratio']:.2f}" for r in rounds) + "]"
        + (f", {summary['steady_ratio_ours_over_official']:.2f}x steady"
           if "steady_ratio_ours_over_official" in summary else ""))
  _print_comparison("printed scores (2 decimals)", summary["printed_scores"], ".2f")
  if "full_precision" in summary:
    _print_comparison("full precision", summary["full_precision"], ".1e")
  if "model_only" in summary:
    m = summary["model_only"]
    print(f"model only ({m['window']} nt windows, five-model ensemble): ours "
          f"{m['ours']['ensemble_windows_per_s']:.3f} windows/s (batch "
          f"{m['ours']['batch_size']}), official {m['official']['ensemble_windows_per_s']:.3f}"
          f" windows/s (batch 1, 5 x Keras predict)")
  print("load average after: {:.2f} {:.2f} {:.2f}".format(*load_after))
  if args.output:
    with open(args.output, "w") as f:
      json.dump(summary, f, indent=2)


if __name__ == "__main__":
  main()
