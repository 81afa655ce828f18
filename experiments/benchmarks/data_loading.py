r"""Streaming genome data vs a built dataset vs gReLU: examples/s and memory.

  python -m experiments.benchmarks.data_loading --geometry=enformer_tiny
  python -m experiments.benchmarks.data_loading --geometry=basenji --tracks=16 \
      --workers=0,1,2 --rounds=2

Writes a synthetic genome (FASTA), ``--tracks`` bigWigs of Poisson coverage, a Basenji
``targets.txt`` and region BEDs under ``--data_dir``, then times, each in a fresh
process started once the machine is quiet (``timing.run_child``), sides alternating
order round by round:

* ``genome``: `genereg_jax.data.genome_source.CoverageSource` through the trainer's
  loader (`pipeline.make_loader`: shuffle, reverse complement with strand pairs, ±3 bp
  shifts, batches) with 0, 1 and 2 grain worker processes;
* ``cached``: the same through the opt-in per-base bigWig cache
  (``cache_dir``, `coverage_tracks.PerBaseCache`, written once before timing), 0 and 2
  workers;
* ``array_record``: the same examples built once into the ``basenji_barnyard`` TFDS
  layout (array_record), read by the same loader;
* ``grelu``: gReLU 1.1's ``BigWigSeqDataset`` on the same FASTA, bigWigs and regions
  (sum over the same bins, rc + shift augmentation) in a torch ``DataLoader``, run by
  ``--grelu_python`` (a separate venv; gReLU reads every sequence and label into
  memory when the dataset is made, so it gets ``--grelu_regions`` regions);
* memory: the genome side's RSS (the process and its workers) with 10k and 1M regions;
* ``breakdown``: microseconds per example of each step of an example (region lookup,
  FASTA fetch, one-hot, bigWig reads, binning, the cached reads) and of the loader
  around it, one process, no workers (`side_breakdown`).

The Enformer-tiny geometry's rate is compared with the consumption rate of its train
step (``experiments.benchmarks.train_step --config=enformer_human_mouse:tiny``), the
issue 15 goal being >= 5x. Prints one JSON line: rates, RSS, per-round ratios, loads.
Runs under load report ratios; the lead reruns the quiet numbers.
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
#: name -> (seq_length, pool_width, crop_bp, batch size): Enformer-tiny's synthetic
#: data (2,048 bp, 48 bins of 32 bp) and Basenji2's (131,072 bp, 896 bins of 128 bp).
GEOMETRIES = {"enformer_tiny": (2048, 32, 256, 8), "basenji": (131_072, 128, 8192, 2)}
CHROMOSOMES = 4


def _geometry(name: str) -> dict:
  seq_length, pool_width, crop_bp, batch = GEOMETRIES[name]
  return dict(seq_length=seq_length, pool_width=pool_width, crop_bp=crop_bp, batch=batch,
              span=seq_length - 2 * crop_bp)


# ---------------------------------------------------------------------------
# Files.
# ---------------------------------------------------------------------------


def write_files(directory: str, geometry: str, tracks: int, region_counts, seed: int = 0
                ) -> dict:
  """FASTA, bigWigs, targets.txt and one region BED per count (kept if present)."""
  import pyBigWig  # pylint: disable=g-import-not-at-top
  g = _geometry(geometry)
  os.makedirs(directory, exist_ok=True)
  rng = np.random.default_rng(seed)
  chrom_length = max(40 * g["seq_length"], 2_000_000)
  sizes = {f"chr{i + 1}": chrom_length for i in range(CHROMOSOMES)}
  fasta = os.path.join(directory, "genome.fa")
  if not os.path.exists(fasta):
    with open(fasta + ".tmp", "w") as f:
      for chrom, size in sizes.items():
        bases = np.frombuffer(b"ACGT", np.uint8)[rng.integers(0, 4, size)].tobytes().decode()
        f.write(f">{chrom}\n")
        f.writelines(bases[i:i + 60] + "\n" for i in range(0, size, 60))
    os.replace(fasta + ".tmp", fasta)
  with open(fasta + ".sizes", "w") as f:  # gReLU's CustomGenome reads the sizes here.
    f.writelines(f"{chrom}\t{size}\n" for chrom, size in sizes.items())
  lines = ["\tidentifier\tfile\tclip\tclip_soft\tscale\tsum_stat\tstrand_pair\tdescription"]
  for t in range(tracks):
    path = os.path.join(directory, f"track{t}.bw")
    if not os.path.exists(path):
      bw = pyBigWig.open(path + ".tmp.bw", "w")
      bw.addHeader(list(sizes.items()))
      for chrom, size in sizes.items():  # Coverage constant over 16-bp runs.
        values = rng.poisson(2.0, size // 16).astype(np.float64)
        bw.addEntries(chrom, 0, values=values, span=16, step=16)
      bw.close()
      os.replace(path + ".tmp.bw", path)
    pair = t + 1 if t % 2 == 0 and t + 1 < tracks else (t - 1 if t % 2 else t)
    lines.append(f"{t}\ttrack{t}\ttrack{t}.bw\t384\t64\t1\tsum\t{pair}\tsynthetic {t}")
  with open(os.path.join(directory, "targets.txt"), "w") as f:
    f.write("\n".join(lines) + "\n")
  beds = {}
  for count in region_counts:
    path = beds[count] = os.path.join(directory, f"regions_{count}.bed")
    if os.path.exists(path):
      continue
    chrom = rng.integers(0, CHROMOSOMES, count)
    margin = g["crop_bp"] + 16  # Windows (+ shifts) stay inside: gReLU checks the ends.
    start = rng.integers(margin, chrom_length - g["span"] - margin, count)
    with open(path + ".tmp", "w") as f:
      f.writelines(f"chr{c + 1}\t{s}\t{s + g['span']}\ttrain\n" for c, s in zip(chrom, start))
    os.replace(path + ".tmp", path)
  return {"fasta": fasta, "targets": os.path.join(directory, "targets.txt"), "beds": beds}


def coverage_source(files: dict, geometry: str, regions: int, cache_dir: str | None = None):
  from genereg_jax.data import genome_source  # pylint: disable=g-import-not-at-top
  g = _geometry(geometry)
  return genome_source.CoverageSource(
      files["fasta"], "train", targets=files["targets"], regions=files["beds"][regions],
      seq_length=g["seq_length"], pool_width=g["pool_width"], crop_bp=g["crop_bp"],
      # Only when set, so this driver also times library versions without the cache.
      **({"cache_dir": cache_dir} if cache_dir else {}))


def warm_cache(files: dict, geometry: str, regions: int, cache_dir: str) -> float:
  """Writes the per-base cache of every track and chromosome; seconds taken (0 once
  written: the timed sides read it, they do not build it)."""
  start = time.perf_counter()
  source = coverage_source(files, geometry, regions, cache_dir)
  for track in source.tracks:
    for chrom in source.genome().sizes:
      source.bigwig(track.file).values(chrom, 0, 1)
  return time.perf_counter() - start


def build_array_record(files: dict, geometry: str, regions: int, directory: str) -> str:
  """The genome-source examples of the first ``regions`` regions as a
  ``basenji_barnyard`` dataset (the last two as its valid and test splits, which the
  builder needs)."""
  import tensorflow_datasets as tfds  # pylint: disable=g-import-not-at-top
  from data_builders import basenji_barnyard as bb  # pylint: disable=g-import-not-at-top
  from genereg_jax.data import tfrecord  # pylint: disable=g-import-not-at-top
  data_dir = os.path.join(directory, "tfds")
  if os.path.exists(os.path.join(directory, "array_record.done")):
    return data_dir
  source = coverage_source(files, geometry, regions)
  manual = os.path.join(directory, "manual", "bench")
  os.makedirs(os.path.join(manual, "tfrecords"), exist_ok=True)
  folds = ["train"] * (len(source) - 2) + ["valid", "test"]
  g = _geometry(geometry)
  statistics = {"num_targets": len(source.tracks), "seq_length": g["seq_length"],
                "pool_width": g["pool_width"], "crop_bp": g["crop_bp"],
                "target_length": source.target_length,
                **{f"{split}_seqs": folds.count(split) for split in bb.SPLITS}}
  with open(os.path.join(manual, "statistics.json"), "w") as f:
    json.dump(statistics, f)
  with open(files["targets"]) as f, open(os.path.join(manual, "targets.txt"), "w") as out:
    out.write(f.read())
  with open(files["beds"][regions]) as f, open(os.path.join(manual, "sequences.bed"), "w") as out:
    out.writelines(line.rsplit("\t", 1)[0] + f"\t{fold}\n" for line, fold in zip(f, folds))
  writers = {split: tfrecord.TFRecordWriter(
      os.path.join(manual, "tfrecords", f"{split}-0.tfr"), "ZLIB") for split in bb.SPLITS}
  for i, fold in enumerate(folds):
    example = source[i]
    writers[fold].write(tfrecord.serialize_example(
        {"sequence": example["sequence"].tobytes(), "target": example["target"].tobytes()}))
  for writer in writers.values():
    writer.close()
  config = bb.BasenjiBarnyardConfig.from_statistics(
      "bench", os.path.join(manual, "statistics.json"))
  builder = bb.BasenjiBarnyard(config=config, data_dir=data_dir, file_format="array_record")
  builder.download_and_prepare(download_config=tfds.download.DownloadConfig(
      manual_dir=os.path.dirname(manual)))
  open(os.path.join(directory, "array_record.done"), "w").close()
  return data_dir


# ---------------------------------------------------------------------------
# Sides (each runs in its own process and prints one JSON line).
# ---------------------------------------------------------------------------


def _process_tree(pid: int | None = None) -> list[int]:
  """A process and all its descendants (grain / torch workers)."""
  found, stack = [], [os.getpid() if pid is None else pid]
  while stack:
    current = stack.pop()
    try:
      for task in os.listdir(f"/proc/{current}/task"):
        with open(f"/proc/{current}/task/{task}/children") as f:
          stack += [int(c) for c in f.read().split()]
    except (OSError, ValueError):
      continue
    found.append(current)
  return found


def tree_memory_mb(pid: int | None = None) -> dict:
  """Memory of a process tree: ``rss_mb`` (resident pages, a shared page counted in
  every process mapping it) and ``pss_mb`` (each shared page split between its
  processes: what the tree really holds; pages of memory-mapped files such as the
  region table and the bigWig cache are shared)."""
  totals = {"rss_mb": 0.0, "pss_mb": 0.0}
  for current in _process_tree(pid):
    try:
      with open(f"/proc/{current}/statm") as f:
        totals["rss_mb"] += int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
      with open(f"/proc/{current}/smaps_rollup") as f:
        totals["pss_mb"] += sum(int(line.split()[1]) for line in f
                                if line.startswith("Pss:")) / 1024
    except (OSError, ValueError):
      continue
  return totals


def tree_cpu_s(pid: int | None = None) -> float:
  """User + system CPU seconds a process tree has used so far: per example, a cost
  that other processes on a loaded machine barely change, unlike examples/s."""
  total = 0.0
  for current in _process_tree(pid):
    try:
      with open(f"/proc/{current}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()  # After the command name.
      total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
      continue
  return total


def _time_batches(iterator, batch_size: int, warmup: int, batches: int) -> dict:
  start = time.perf_counter()
  for _ in range(warmup):  # Worker start-up and the first reads.
    next(iterator)
  first = time.perf_counter() - start
  start, cpu = time.perf_counter(), tree_cpu_s()
  for _ in range(batches):
    next(iterator)
  elapsed, cpu = time.perf_counter() - start, tree_cpu_s() - cpu
  return {"examples_per_s": batches * batch_size / elapsed, "timed_batches": batches,
          "cpu_us_per_example": 1e6 * cpu / (batches * batch_size),
          "warmup_s": first, **tree_memory_mb()}


def side_grain(args, built: bool) -> dict:
  from absl import flags  # pylint: disable=g-import-not-at-top
  from genereg_jax import tasks  # pylint: disable=g-import-not-at-top
  from genereg_jax.data import pipeline  # pylint: disable=g-import-not-at-top
  flags.FLAGS.mark_as_parsed()  # grain's worker processes read its absl flags' defaults.
  files = write_files(args.data_dir, args.geometry, args.tracks, [args.regions])
  g = _geometry(args.geometry)
  start = time.perf_counter()
  if built:
    builder = pipeline.load_builder("basenji_barnyard/bench", os.path.join(
        args.data_dir, f"built_{args.regions}", "tfds"))
    source = builder.as_data_source("train")
    metadata = builder.info.metadata
  else:
    source = coverage_source(files, args.geometry, args.regions, args.cache_dir or None)
    metadata = source.metadata
  open_s = time.perf_counter() - start
  task = tasks.get_task("coverage", {})
  task.use_dataset_metadata(metadata)
  augmentation = pipeline.Augmentation(
      reverse_complement=True, max_shift=3,
      reverse_complement_targets=task.reverse_complement_targets)
  loader = pipeline.make_loader(source, batch_size=g["batch"], keys=("sequence", "target"),
                                seed=0, augmentation=augmentation,
                                worker_count=args.worker_count)
  result = _time_batches(iter(loader), g["batch"], args.warmup_batches, args.batches)
  return {**result, "open_s": open_s, "records": len(source)}


class _OneExample:
  """A source serving one stored example: the loader's own cost per example."""

  read_threads = 0  # Read as the genome sources are (`pipeline.make_loader`).

  def __init__(self, example: dict, records: int):
    self.example, self.records = example, records

  def __len__(self) -> int:
    return self.records

  def __getitem__(self, index: int) -> dict:
    return dict(self.example)


def side_breakdown(args) -> dict:
  """CPU microseconds per example of each step of `CoverageSource.__getitem__`, and of
  the loader around it (shuffle, augmentation, batching: a source serving one stored
  example), in one process without grain workers. Each step is timed alone over the
  same random regions (best of 3 passes)."""
  from absl import flags  # pylint: disable=g-import-not-at-top
  from genereg_jax import tasks  # pylint: disable=g-import-not-at-top
  from genereg_jax.data import coverage_tracks  # pylint: disable=g-import-not-at-top
  from genereg_jax.data import pipeline  # pylint: disable=g-import-not-at-top
  from genereg_jax.data.encoding import one_hot_dna  # pylint: disable=g-import-not-at-top
  flags.FLAGS.mark_as_parsed()
  files = write_files(args.data_dir, args.geometry, args.tracks, [args.regions])
  g = _geometry(args.geometry)
  source = coverage_source(files, args.geometry, args.regions)
  count = args.batches * g["batch"]
  index = np.random.default_rng(0).integers(0, len(source), count).tolist()
  windows = []  # chromosome, sequence start, target start, target end
  for i in index:
    chrom, _, _, centre = source.locus(i)
    first = centre - source.seq_length // 2 + source.crop_bp
    windows.append((chrom, first - source.crop_bp, first,
                    first + source.target_length * source.pool_width))
  handles = [source.bigwig(t.file) for t in source.tracks]  # What the source reads with.
  pybigwig = [coverage_tracks.open_bigwig(t.file) for t in source.tracks]
  genome = source.genome()
  blacklist = source._blacklist  # pylint: disable=protected-access
  # Versions before TrackBins binned track by track.
  bins = getattr(source, "_bins", None) or (lambda values: np.stack([
      coverage_tracks.basenji_bins(v, t, source.pool_width)
      for v, t in zip(values, source.tracks)], axis=-1))
  texts = [genome.fetch(c, s, s + source.seq_length) for c, s, _, _ in windows]
  raw = [np.stack([coverage_tracks.raw_values(h, "", c, a, b) for h in handles])
         for c, _, a, b in windows]
  steps = {
      "locus": lambda k: source.locus(index[k]),
      "fasta_fetch": lambda k: genome.fetch(windows[k][0], windows[k][1],
                                            windows[k][1] + source.seq_length),
      "one_hot": lambda k: one_hot_dna(texts[k]),
      "bigwig_values": lambda k: [h.values(windows[k][0], windows[k][2], windows[k][3],
                                           numpy=True) for h in handles],
      "pybigwig_values": lambda k: [h.values(windows[k][0], windows[k][2], windows[k][3],
                                             numpy=True) for h in pybigwig],
      "raw_values_float16_stacked": lambda k: np.stack([coverage_tracks.raw_values(
          h, "", windows[k][0], windows[k][2], windows[k][3]) for h in handles]),
      "blacklist_lookup": lambda k: blacklist.overlapping(windows[k][0], windows[k][2],
                                                          windows[k][3]),
      "binning_all_tracks": lambda k: bins(raw[k]),
      "whole_example": lambda k: source[index[k]],
  }
  if args.cache_dir:
    cached = coverage_source(files, args.geometry, args.regions, args.cache_dir)
    cached_handles = [cached.bigwig(t.file) for t in cached.tracks]
    steps["cached_values"] = lambda k: [h.values(windows[k][0], windows[k][2], windows[k][3])
                                        for h in cached_handles]
    steps["whole_example_cached"] = lambda k: cached[index[k]]
  micros = {}  # CPU time (other processes on a loaded machine barely change it).
  for name, step in steps.items():
    passes = []
    for _ in range(3):
      start = time.process_time()
      for k in range(count):
        step(k)
      passes.append((time.process_time() - start) / count * 1e6)
    micros[name] = round(min(passes), 2)
  task = tasks.get_task("coverage", {})
  task.use_dataset_metadata(source.metadata)
  augmentation = pipeline.Augmentation(
      reverse_complement=True, max_shift=3,
      reverse_complement_targets=task.reverse_complement_targets)
  served_by = {"loader_one_example": _OneExample(source[0], len(source)),
               "loader_streaming": source}
  if args.cache_dir:
    served_by["loader_streaming_cached"] = cached
  for name, served in served_by.items():
    loader = iter(pipeline.make_loader(served, batch_size=g["batch"], seed=0,
                                       keys=("sequence", "target"), augmentation=augmentation))
    result = _time_batches(loader, g["batch"], args.warmup_batches, args.batches)
    micros[name] = round(result["cpu_us_per_example"], 2)
  return {"cpu_microseconds_per_example": micros, "examples": count}


def side_grelu(args) -> dict:
  import pandas as pd  # pylint: disable=g-import-not-at-top
  import torch  # pylint: disable=g-import-not-at-top
  from grelu.data.dataset import BigWigSeqDataset  # pylint: disable=g-import-not-at-top
  torch.set_num_threads(1)
  g = _geometry(args.geometry)
  directory = args.data_dir
  intervals = pd.read_csv(os.path.join(directory, f"regions_{args.regions}.bed"), sep="\t",
                          header=None, names=["chrom", "start", "end", "split"],
                          nrows=args.grelu_regions)
  bigwigs = [os.path.join(directory, f"track{t}.bw") for t in range(args.tracks)]
  start = time.perf_counter()
  dataset = BigWigSeqDataset(
      intervals, bigwigs, seq_len=g["seq_length"], genome=os.path.join(directory, "genome.fa"),
      label_len=g["span"], bin_size=g["pool_width"], label_aggfunc="sum", rc=True,
      max_seq_shift=3, augment_mode="random", seed=0)
  open_s = time.perf_counter() - start
  loader = torch.utils.data.DataLoader(dataset, batch_size=g["batch"], shuffle=True,
                                       num_workers=args.worker_count,
                                       persistent_workers=args.worker_count > 0)

  def forever():
    while True:
      yield from loader

  result = _time_batches(forever(), g["batch"], args.warmup_batches, args.batches)
  return {**result, "open_s": open_s, "records": len(dataset),
          "framework": f"grelu (torch {torch.__version__})"}


# ---------------------------------------------------------------------------
# Driver.
# ---------------------------------------------------------------------------


def _child(args, side: str, workers: int, regions: int, python: str = sys.executable,
           **extra) -> dict:
  command = [python, "-m", "experiments.benchmarks.data_loading", f"--side={side}",
             f"--geometry={args.geometry}", f"--data_dir={args.data_dir}",
             f"--tracks={args.tracks}", f"--regions={regions}",
             f"--worker_count={workers}", f"--batches={args.batches}",
             f"--warmup_batches={args.warmup_batches}",
             *(f"--{k}={v}" for k, v in extra.items())]
  return timing.run_child(command, cwd=REPO, max_wait_s=args.max_wait_s, timeout=1800)


def drive(args) -> dict:
  workers = [int(w) for w in args.workers.split(",")]
  files = write_files(args.data_dir, args.geometry, args.tracks,
                      [args.regions, args.built_regions, *args.rss_regions])
  build_array_record(files, args.geometry, args.built_regions,
                     os.path.join(args.data_dir, f"built_{args.built_regions}"))
  cache_dir = os.path.join(args.data_dir, "bigwig_cache")
  cache_build_s = warm_cache(files, args.geometry, args.regions, cache_dir)
  cached = [int(w) for w in args.cached_workers.split(",") if w]
  sides = ([f"genome/{w}" for w in workers] + [f"cached/{w}" for w in cached]
           + ["array_record/0"])
  if args.grelu_python and os.path.exists(args.grelu_python):
    sides += [f"grelu/{w}" for w in workers]
  rates: dict[str, dict[int, float]] = {s: {} for s in sides}
  runs = []
  for round_index, order in enumerate(timing.round_orders(sides, args.rounds)):
    for side in order:
      kind, w = side.split("/")
      if kind == "grelu":
        result = _child(args, "grelu", int(w), args.regions, python=args.grelu_python,
                        grelu_regions=args.grelu_regions)
      elif kind == "array_record":
        result = _child(args, "array_record", 0, args.built_regions)
      elif kind == "cached":
        result = _child(args, "genome", int(w), args.regions, cache_dir=cache_dir)
      else:
        result = _child(args, "genome", int(w), args.regions)
      runs.append({"side": side, "round": round_index, **result})
      if "examples_per_s" in result:
        rates[side][round_index] = result["examples_per_s"]
  memory = [{"regions": n, **_child(args, "genome", w, n)}
            for n in args.rss_regions for w in (0, max(workers))]
  report = {"geometry": _geometry(args.geometry), "tracks": args.tracks,
            "breakdown": _child(args, "breakdown", 0, args.regions, cache_dir=cache_dir),
            "cache_build_s": cache_build_s,
            "median_examples_per_s": {s: float(np.median(list(r.values()))) if r else None
                                      for s, r in rates.items()},
            "ratios_vs_array_record": {s: timing.round_ratios(rates[s], rates["array_record/0"])
                                       for s in sides if s != "array_record/0"},
            "memory": [{k: m.get(k) for k in ("regions", "rss_mb", "pss_mb", "open_s",
                                              "examples_per_s", "loaded", "error")}
                       for m in memory],
            "runs": runs}
  if any(s.startswith("grelu/") for s in sides):
    report["ratios_vs_grelu"] = {
        f"genome/{w}": timing.round_ratios(rates[f"genome/{w}"], rates[f"grelu/{w}"])
        for w in workers}
  if args.train_step:
    g = _geometry(args.geometry)
    shapes = (f"sequence:{g['seq_length']}x4:uint8,"
              f"target:{g['span'] // g['pool_width']}x{args.tracks}:float16")
    step = timing.run_child([sys.executable, "-m", "experiments.benchmarks.train_step",
                             f"--config={args.train_step}", f"--example_shapes={shapes}"],
                            cwd=REPO, max_wait_s=args.max_wait_s)
    consumed = step.get("train", {}).get("examples_per_s")
    report["train_step"] = {"config": args.train_step, "examples_per_s": consumed,
                            "loaded": step.get("loaded"), "error": step.get("error")}
    if consumed:
      report["genome_over_train_step"] = {
          s: rates_median / consumed for s, rates_median in
          report["median_examples_per_s"].items() if s.startswith("genome/") and rates_median}
  return report


def parse(argv):
  parser = argparse.ArgumentParser(
      prog="python -m experiments.benchmarks.data_loading", description=__doc__,
      formatter_class=argparse.RawDescriptionHelpFormatter)
  parser.add_argument("--geometry", choices=sorted(GEOMETRIES), default="enformer_tiny")
  parser.add_argument("--data_dir", default=None,
                      help="Where the generated files go (default /tmp/genereg_data_loading/"
                           "<geometry>); reused when present.")
  parser.add_argument("--tracks", type=int, default=6, help="bigWig tracks (Enformer-tiny "
                      "human head: 6).")
  parser.add_argument("--regions", type=int, default=10_000, help="Regions of the timed BED.")
  parser.add_argument("--rss_regions", default="10000,1000000",
                      help="Region counts whose RSS is compared (comma-separated).")
  parser.add_argument("--built_regions", type=int, default=None,
                      help="Examples built into the array_record side (default 2,000; 200 "
                           "for basenji).")
  parser.add_argument("--grelu_regions", type=int, default=None,
                      help="Regions gReLU loads into memory (default 500; 64 for basenji: "
                           "it holds every per-base label, 16 tracks x 114,688 bp x 4 bytes "
                           "= 7 MB per region).")
  parser.add_argument("--grelu_python", default="/work/grelu-venv/bin/python",
                      help="Python of a venv with gReLU 1.1 (skipped when missing).")
  parser.add_argument("--workers", default="0,1,2", help="grain / torch worker counts.")
  parser.add_argument("--cached_workers", default="0,2",
                      help="grain worker counts of the genome side reading through the "
                           "per-base bigWig cache (CoverageSource cache_dir; '' for none).")
  parser.add_argument("--batches", type=int, default=50, help="Timed batches per run.")
  parser.add_argument("--warmup_batches", type=int, default=5)
  parser.add_argument("--rounds", type=int, default=2)
  parser.add_argument("--max_wait_s", type=float, default=120.0,
                      help="Longest wait for a quiet machine before each child.")
  parser.add_argument("--train_step", default=None,
                      help="Config whose train step's examples/s is the consumption rate "
                           "(default enformer_human_mouse:tiny for --geometry=enformer_tiny; "
                           "'' to skip).")
  parser.add_argument("--side", choices=("genome", "array_record", "grelu", "breakdown"),
                      default=None, help=argparse.SUPPRESS)
  parser.add_argument("--worker_count", type=int, default=0, help=argparse.SUPPRESS)
  parser.add_argument("--cache_dir", default="", help=argparse.SUPPRESS)
  args = parser.parse_args(argv)
  args.data_dir = args.data_dir or f"/tmp/genereg_data_loading/{args.geometry}"
  args.rss_regions = [int(n) for n in args.rss_regions.split(",") if n]
  if args.built_regions is None:
    args.built_regions = 200 if args.geometry == "basenji" else 2000
  if args.grelu_regions is None:
    args.grelu_regions = 64 if args.geometry == "basenji" else 500
  if args.train_step is None:
    args.train_step = "enformer_human_mouse:tiny" if args.geometry == "enformer_tiny" else ""
  return args


def main(argv=None) -> None:
  args = parse(argv)
  if args.side == "grelu":
    result = side_grelu(args)
  elif args.side == "breakdown":
    result = side_breakdown(args)
  elif args.side in ("genome", "array_record"):
    result = side_grain(args, built=args.side == "array_record")
  else:
    result = drive(args)
  print(json.dumps(result), flush=True)


if __name__ == "__main__":
  main()
