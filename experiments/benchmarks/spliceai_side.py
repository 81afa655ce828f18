r"""Time or score one side of ``spliceai_scoring`` in its own process.

  python -m experiments.benchmarks.spliceai_side --side=ours_model --batch_sizes=1,32
  /work/tf-venv/bin/python -m experiments.benchmarks.spliceai_side --side=official_model

Sides (each prints one JSON line; only numpy and ``timing`` are imported at the top, so
the official ones run in the TensorFlow venv without JAX or genereg_jax):

  ours_model        the scorer's jitted five-model ``Predictor`` on random windows of
                    ``--width`` nt, ``b`` windows per call for each ``b`` of
                    ``--batch_sizes``: warm-up to steady state, then ``--reps`` calls
                    (median, IQR); ensemble windows/s = b / median call.
  official_model    the same windows through the five Keras models, ``model.predict``
                    on ``b`` windows each and averaged, as ``get_delta_scores`` does
                    (there with b = 1).
  official_precise  ``spliceai.utils.get_delta_scores`` over ``--vcf`` with the format
                    string ``{:.2f}`` replaced by ``{:.6f}`` and nothing else changed.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from experiments.benchmarks import timing


def random_windows(count: int, width: int, seed: int = 0) -> np.ndarray:
  index = np.random.default_rng(seed).integers(0, 4, (count, width))
  return np.eye(4, dtype=np.uint8)[index]


def _time_batches(predict, sync, width: int, batch_sizes, reps: int) -> dict:
  results = {}
  for b in batch_sizes:
    x = random_windows(b, width)
    start = time.perf_counter()
    sync(predict(x))
    first = time.perf_counter() - start
    m = timing.measure(lambda: predict(x), sync, steps=reps, max_warmup=max(6, reps))
    results[str(b)] = {**m, "first_call_s": first,
                       "ensemble_windows_per_s": b / m["median_s"]}
  return results


def ours_model(width: int, batch_sizes, reps: int) -> dict:
  from genereg_jax.models import spliceai
  from genereg_jax.variants import spliceai_scoring as ss
  start = time.perf_counter()
  predict = ss.Predictor(spliceai.SpliceAIEnsemble(), spliceai.load_official_weights(None))
  loaded = time.perf_counter() - start
  return {"side": "ours", "load_s": loaded, "width": width,
          "batch": _time_batches(predict, np.asarray, width, batch_sizes, reps)}


def official_model(width: int, batch_sizes, reps: int) -> dict:
  from keras.models import load_model
  from pkg_resources import resource_filename
  start = time.perf_counter()
  models = [load_model(resource_filename("spliceai", f"models/spliceai{i}.h5"))
            for i in range(1, 6)]
  loaded = time.perf_counter() - start
  # one_hot_encode's dtype is int64; predict on the whole batch, then average.
  predict = lambda x: np.mean([m.predict(x.astype(np.int64), verbose=0) for m in models],
                              axis=0)
  return {"side": "official", "load_s": loaded, "width": width,
          "batch": _time_batches(predict, np.asarray, width, batch_sizes, reps)}


def official_precise(vcf: str, fasta: str, annotation: str, distance: int) -> dict:
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
  annotator = module.Annotator(fasta, annotation)
  loaded = time.perf_counter()
  entries = []
  for record in pysam.VariantFile(vcf):
    for entry in module.get_delta_scores(record, annotator, distance, 0):
      entries.append([record.chrom, record.pos, record.ref, ",".join(record.alts), entry])
  return {"load_s": loaded - start, "score_s": time.perf_counter() - loaded,
          "entries": entries}


def main(argv=None) -> None:
  parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
  parser.add_argument("--side", required=True,
                      choices=("ours_model", "official_model", "official_precise"))
  parser.add_argument("--width", type=int, default=10_101, help="window, nt")
  parser.add_argument("--batch_sizes", default="1,32", help="windows per call")
  parser.add_argument("--reps", type=int, default=timing.TIMED_STEPS)
  for name in ("vcf", "fasta", "annotation"):
    parser.add_argument(f"--{name}")
  parser.add_argument("--distance", type=int, default=50)
  args = parser.parse_args(argv)
  batch_sizes = [int(b) for b in args.batch_sizes.split(",") if b]
  if args.side == "ours_model":
    result = ours_model(args.width, batch_sizes, args.reps)
  elif args.side == "official_model":
    result = official_model(args.width, batch_sizes, args.reps)
  else:
    result = official_precise(args.vcf, args.fasta, args.annotation, args.distance)
  print(json.dumps(result), flush=True)


if __name__ == "__main__":
  main()
