r"""Ground truth for attribution methods: do they find the JASPAR motifs planted in
``synthetic_motifs``?

  python -m experiments.benchmarks.motif_recovery --configs=deepsea:tiny,basset:tiny \
      --workdir_root=/tmp/motif_recovery --train_steps=3000 --num_sequences=400

For each config the model is trained (or its workdir's checkpoint reused) on
``synthetic_motifs``, then every method of ``METHODS`` explains the label of one
planted motif (``--target``, default CTCF: the ``CTCF`` label is "CTCF present on either
strand") on ``--num_sequences`` test sequences, whose planted sites the builder records
(``motif_name``, ``motif_start``, ``motif_strand``). Scores, per method:

* ``auprc``: average precision of the per-base attribution (summed over bases, i.e. the
  present base's contribution) as a score for "this base lies in a planted site of the
  target motif", over every base of every sequence.
* ``precision`` / ``recall``: of the bases whose attribution exceeds ``site_fraction``
  (0.2) of their sequence's largest, against the same truth.
* ``seqlet_recovery`` (methods with hypothetical contributions: TF-MoDISco needs them):
  fraction of planted target sites of which at least half lies inside a seqlet of a
  positive TF-MoDISco pattern.
* ``modisco_match``: whether a TF-MoDISco pattern's best JASPAR match by TomTom
  (memelite) is the planted matrix (same base ID) with ``q < 0.05``; ``motifs_found``
  lists every planted vocabulary motif some pattern matches that way.

The table goes to ``--out`` (TSV) and is printed as markdown for
``experiments/benchmarks/README.md``, with the load average it ran at.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Mapping, Sequence

import numpy as np

METHODS = ("saliency", "input_x_gradient", "integrated_gradients", "deeplift_shap", "ism")
# Methods whose output includes hypothetical contributions (what TF-MoDISco reads).
HYPOTHETICAL = ("deeplift_shap", "ism")


@dataclasses.dataclass(frozen=True)
class Site:
  """A planted motif instance: sequence ``example``, ``[start, end)``, ``strand``."""

  example: int
  name: str
  start: int
  end: int
  strand: int


def planted_sites(examples: Sequence[Mapping], widths: Mapping[str, int]) -> list[Site]:
  """Sites of builder examples (``motif_name``, ``motif_start``, ``motif_strand``)."""
  sites = []
  for i, example in enumerate(examples):
    for name, start, strand in zip(example["motif_name"], example["motif_start"],
                                   example["motif_strand"]):
      name = name.decode() if isinstance(name, bytes) else str(name)
      sites.append(Site(i, name, int(start), int(start) + widths[name], int(strand)))
  return sites


def site_mask(sites: Sequence[Site], shape: tuple[int, int], name: str) -> np.ndarray:
  """``bool[N, L]``: bases inside a planted ``name`` site."""
  mask = np.zeros(shape, bool)
  for site in sites:
    if site.name == name:
      mask[site.example, site.start:site.end] = True
  return mask


def average_precision(scores: np.ndarray, labels: np.ndarray) -> float:
  """Area under the precision-recall curve as scikit-learn's ``average_precision_score``
  (step-wise, ties grouped)."""
  scores, labels = np.ravel(scores), np.ravel(labels).astype(bool)
  if not labels.any():
    return float("nan")
  order = np.argsort(-scores, kind="stable")
  scores, labels = scores[order], labels[order]
  last = np.r_[np.flatnonzero(np.diff(scores)), scores.size - 1]  # End of each tie.
  true_positives = np.cumsum(labels)[last]
  precision = true_positives / (last + 1)
  recall = true_positives / labels.sum()
  return float(np.sum(np.diff(np.r_[0.0, recall]) * precision))


def site_scores(per_base: np.ndarray, mask: np.ndarray, site_fraction: float = 0.2
                ) -> dict[str, float]:
  """AUPRC, and precision/recall of bases above ``site_fraction`` x their sequence's
  maximum, for ``per_base [N, L]`` attributions against ``mask``."""
  called = per_base > site_fraction * per_base.max(axis=1, keepdims=True).clip(1e-12)
  hits = (called & mask).sum()
  return {"auprc": average_precision(per_base, mask),
          "precision": float(hits / max(called.sum(), 1)),
          "recall": float(hits / max(mask.sum(), 1))}


def seqlet_recovery(patterns, sites: Sequence[Site], name: str) -> float:
  """Fraction of planted ``name`` sites at least half inside a positive pattern's seqlet."""
  seqlets = {}
  for pattern in patterns:
    if pattern.sign > 0:
      for s in pattern.seqlets:
        seqlets.setdefault(s.example, []).append((s.start, s.end))
  targets = [s for s in sites if s.name == name]
  found = 0
  for site in targets:
    width = site.end - site.start
    if any(min(end, site.end) - max(start, site.start) >= width / 2
           for start, end in seqlets.get(site.example, ())):
      found += 1
  return found / max(len(targets), 1)


def modisco_found(patterns, jaspar, truth: Mapping[str, str], max_q: float = 0.05
                  ) -> dict[str, list[str]]:
  """``{planted name: patterns whose best TomTom match is its JASPAR matrix (q <
  max_q)}`` for ``truth = {name: base ID}``."""
  from genereg_jax.interpret import filter_motifs
  from genereg_jax.interpret import modisco
  matches = modisco.tomtom_matches([p.motif for p in patterns], jaspar)
  return filter_motifs.recovered(matches, truth, top_k=1, max_q=max_q)


def attribute(method: str, fn: Callable, x: np.ndarray, target: int, *,
              n_steps: int = 50, n_shuffles: int = 20, batch_size: int = 32):
  """``(attributions, hypothetical or None)``, both ``[N, L, 4]``, in batches."""
  from genereg_jax import interpret
  attributions, hypothetical = [], []
  for start in range(0, len(x), batch_size):
    batch = np.asarray(x[start:start + batch_size], np.float32)
    hyp = None
    if method == "deeplift_shap":
      hyp = interpret.deeplift_shap(fn, batch, target, n_shuffles=n_shuffles,
                                    hypothetical=True)
      attr = hyp * batch
    elif method == "ism":
      hyp = interpret.ism_attributions(fn, batch, target, hypothetical=True)
      attr = hyp * batch
    elif method == "integrated_gradients":
      attr = interpret.integrated_gradients(fn, batch, target, n_steps=n_steps)
    elif method == "input_x_gradient":
      attr = interpret.input_x_gradient(fn, batch, target)
    elif method == "saliency":
      attr = interpret.saliency(fn, batch, target)
    else:
      raise ValueError(f"unknown method {method!r}; valid: {list(METHODS)}")
    attributions.append(np.asarray(attr, np.float32))
    if hyp is not None:
      hypothetical.append(np.asarray(hyp, np.float32))
  return (np.concatenate(attributions),
          np.concatenate(hypothetical) if hypothetical else None)


def evaluate(fn: Callable, x: np.ndarray, target: int, sites: Sequence[Site], name: str,
             truth: Mapping[str, str], *, methods: Sequence[str] = METHODS,
             modisco: bool = True, jaspar=None, modisco_kwargs=None,
             attribute_kwargs=None) -> list[dict]:
  """One row per method: ``site_scores`` of the ``name`` sites and, for methods with
  hypothetical contributions when ``modisco``, seqlet recovery and TomTom matches."""
  from genereg_jax.interpret import modisco as modisco_lib
  mask = site_mask(sites, x.shape[:2], name)
  rows = []
  for method in methods:
    attributions, hypothetical = attribute(method, fn, x, target,
                                           **(attribute_kwargs or {}))
    per_base = attributions.sum(-1)
    row = {"method": method, **site_scores(per_base, mask)}
    if method == "saliency":  # Gradients are signed for absent bases too: use |.|.
      row.update(site_scores(np.abs(attributions).max(-1), mask))
    if modisco and hypothetical is not None:
      patterns = modisco_lib.run_modisco(x, hypothetical, **(modisco_kwargs or {}))
      found = modisco_found(patterns, jaspar, truth) if patterns else {}
      row.update(patterns=len(patterns), seqlet_recovery=seqlet_recovery(
          patterns, sites, name), modisco_match=bool(found.get(name)),
          motifs_found=",".join(sorted(k for k, v in found.items() if v)))
    rows.append(row)
  return rows


COLUMNS = ("model", "method", "auprc", "precision", "recall", "patterns",
           "seqlet_recovery", "modisco_match", "motifs_found")


def markdown(rows: Sequence[Mapping]) -> str:
  """The rows as a markdown table (``COLUMNS``)."""
  def cell(value):
    if isinstance(value, float):
      return f"{value:.3f}"
    return "" if value is None else str(value)
  lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
  lines += ["| " + " | ".join(cell(r.get(c)) for c in COLUMNS) + " |" for r in rows]
  return "\n".join(lines)


def _trained_readout(config_name: str, workdir: str, train_steps: int, output_target: str):
  """Trains ``config_name`` into ``workdir`` unless it holds a checkpoint; returns
  ``(config, fn, target index)``."""
  from experiments import configs
  from genereg_jax import predict
  from genereg_jax.interpret import readout
  from genereg_jax.train import trainer
  config = configs.get_config(config_name)
  config.num_train_steps = train_steps
  config.final_eval_splits = ()
  if not os.path.isdir(os.path.join(workdir, "checkpoints")):
    trainer.train_and_evaluate(config, workdir)
  predictor, _ = predict.load_predictor(config, workdir)
  model_readout = readout.predictor_readout(predictor)
  return config, model_readout.fn, readout.resolve_target(model_readout.names,
                                                          output_target)


def main(argv):
  del argv
  import time
  from absl import flags
  from data_builders.synthetic_motifs import synthetic_motifs
  from genereg_jax.interpret import filter_motifs
  from genereg_jax.train import trainer
  FLAGS = flags.FLAGS
  motifs = synthetic_motifs.load_motifs()
  widths = {name: m.width for name, m in motifs.items()}
  truth = dict(synthetic_motifs.MOTIF_IDS)
  jaspar = filter_motifs.load_jaspar()
  rows = []
  load_start = os.getloadavg()[0]
  started = time.time()
  for config_name in FLAGS.configs:
    workdir = os.path.join(FLAGS.workdir_root, config_name.replace(":", "_"))
    config, fn, target = _trained_readout(config_name, workdir, FLAGS.train_steps,
                                          FLAGS.target)
    source = trainer.load_split(config, "test")
    examples = [source[i] for i in range(min(FLAGS.num_sequences, len(source)))]
    x = np.stack([np.asarray(e[config.model_inputs[0]], np.float32) for e in examples])
    sites = planted_sites(examples, widths)
    base_rate = site_mask(sites, x.shape[:2], FLAGS.target).mean()
    for row in evaluate(fn, x, target, sites, FLAGS.target, truth, jaspar=jaspar,
                        modisco_kwargs=dict(min_metacluster_size=50)):
      rows.append({"model": config_name, **row})
      print(rows[-1], flush=True)
  table = markdown(rows)
  note = (f"{len(FLAGS.configs)} models x {len(METHODS)} methods on {FLAGS.num_sequences} "
          f"test sequences, target {FLAGS.target} (AUPRC of chance = its bases' fraction, "
          f"{base_rate:.3f} in the last set); {time.time() - started:.0f} s, load "
          f"average {load_start:.1f} at start, {os.getloadavg()[0]:.1f} at end "
          f"({os.cpu_count()} CPUs)")
  print(table + "\n\n" + note)
  if FLAGS.out:
    from genereg_jax.files import atomic_write
    with atomic_write(FLAGS.out) as f:
      f.write("\t".join(COLUMNS) + "\n")
      f.writelines("\t".join(str(r.get(c, "")) for c in COLUMNS) + "\n" for r in rows)
      f.write(f"# {note}\n")


if __name__ == "__main__":
  from absl import app
  from absl import flags
  flags.DEFINE_list("configs", ["deepsea:tiny", "basset:tiny"], "Configs to train/explain.")
  flags.DEFINE_string("workdir_root", "/tmp/motif_recovery", "Workdirs go here.")
  flags.DEFINE_integer("train_steps", 3000, "Training steps of each model.")
  flags.DEFINE_integer("num_sequences", 400, "Test sequences explained.")
  flags.DEFINE_string("target", "CTCF", "Label explained (a planted motif's name).")
  flags.DEFINE_string("out", None, "TSV of the table.")
  app.run(main)
