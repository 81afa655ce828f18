r"""A trained model's test metrics beside the classical baseline of its data.

  python -m experiments.compare_baselines --config=deepcpg:tiny --workdir=/tmp/deepcpg_tiny
  python -m experiments.compare_baselines --config=deepgp --workdir=/tmp/deepgp
  python -m experiments.compare_baselines --config=deepgp  # the baseline only

* DeepCpG configs (``bismark_cpg`` data): the neighbour-average imputation
  (`genereg_jax.models.deepcpg.neighbour_average`: each cell's mean state of its observed
  neighbouring CpGs, all ``K`` per side or only those within 1 / 3 kb) scored like the
  model, AUROC/AUPRC over the observed (cell, CpG) pairs of the split; on synthetic data also the AUROC of the true probabilities
  (``truth``), the ceiling.
* Genomic-prediction configs (``genotypes`` data): closed-form ridge on the dosages
  (GBLUP-like, lambda by 5-fold CV on the training individuals;
  `genereg_jax.models.deepgp.ridge_cv`), Pearson r with the phenotype and with the true
  genetic value on synthetic data.

With ``--workdir`` the checkpoint there is evaluated on the same split
(``trainer.evaluate_checkpoint``) and both rows are printed as JSON.
"""

import json

import numpy as np
from absl import flags

from experiments import common


def define_flags() -> None:
  """Flags, defined when run as a command (not on import, so that modules which
  share ``--config`` can be imported together)."""
  common.define_config_flags(workdir_required=False)
  flags.DEFINE_string("split", "test", "Split to score.")
  flags.DEFINE_enum("checkpoint", "best", ["latest", "best"], "Which checkpoint of --workdir.")


FLAGS = flags.FLAGS


def _records(config, split: str, keys: tuple[str, ...]) -> dict[str, np.ndarray]:
  from genereg_jax.train import trainer
  source = trainer.load_split(config, split)
  return {k: np.stack([source[i][k] for i in range(len(source))]) for k in keys}


def trainer_metadata(config) -> dict:
  from genereg_jax.train import trainer
  return trainer.load_split(config, config.train_split).metadata


def cpg_baseline(config, split: str) -> dict[str, float]:
  from genereg_jax.models import deepcpg
  from genereg_jax.tasks import metrics
  data = _records(config, split, ("cpg_state", "cpg_dist", "label", "truth"))
  observed = data["label"] >= 0
  labels = data["label"][observed]
  scores = deepcpg.neighbour_average(data["cpg_state"], data["cpg_dist"])[observed]
  row = {"baseline": "neighbour_average", "pairs": int(observed.sum()),
         "auroc": metrics.auroc(scores, labels), "auprc": metrics.auprc(scores, labels)}
  max_dist = trainer_metadata(config).get("max_dist", 25000)
  for window in (1000, 3000):  # Neighbours within a window only, as window averaging.
    near = deepcpg.neighbour_average(data["cpg_state"], data["cpg_dist"],
                                     within=window / max_dist)[observed]
    row[f"auroc_within_{window // 1000}kb"] = metrics.auroc(near, labels)
  truth = data["truth"][observed]
  if (truth >= 0).all():
    row["auroc_of_truth"] = metrics.auroc(truth, labels)
  return row


def ridge_baseline(config, split: str) -> dict[str, float]:
  from genereg_jax.models import deepgp
  from genereg_jax.tasks import metrics
  train = _records(config, config.train_split, ("genotypes", "phenotype"))
  test = _records(config, split, ("genotypes", "phenotype", "genetic_value"))
  predict, lam, _ = deepgp.ridge_cv(train["genotypes"], train["phenotype"])
  predicted = predict(test["genotypes"])[:, 0]
  row = {"baseline": "ridge_cv", "lambda": lam,
         "pearson": metrics.pearson_r(predicted, test["phenotype"][:, 0])}
  truth = test["genetic_value"][:, 0]
  if np.isfinite(truth).all():
    row["pearson_truth"] = metrics.pearson_r(predicted, truth)
  return row


BASELINES = {"deepcpg": cpg_baseline, "deepgp": ridge_baseline}


def main(argv):
  del argv
  from genereg_jax.train import trainer
  config = FLAGS.config
  if config.model_name not in BASELINES:
    raise SystemExit(f"error: no baseline for model {config.model_name!r}; baselines exist "
                     f"for {sorted(BASELINES)}")
  rows = {"baseline": BASELINES[config.model_name](config, FLAGS.split)}
  if FLAGS.workdir:
    results, _ = trainer.evaluate_checkpoint(config, FLAGS.workdir, FLAGS.split,
                                             FLAGS.checkpoint)
    rows["model"] = {k: float(v) for k, v in results.items() if np.ndim(v) == 0}
  print(json.dumps({"split": FLAGS.split, **rows}, indent=2, default=float), flush=True)


if __name__ == "__main__":
  define_flags()
  common.run(main)
