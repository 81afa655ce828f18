r"""DeepBind for RNA (Alipanahi et al. 2015) on RNAcompete-style probes (Ray et al. 2013).

  python -m experiments.train --config=deepbind_rna --workdir=/tmp/deepbind_rna
  python -m experiments.train --config=deepbind_rna:PUM2 --workdir=/tmp/deepbind_rna_pum2
  python -m experiments.train --config=deepbind_rna:tiny --workdir=/tmp/deepbind_rna_tiny
  python -m data_builders.build --dataset=rnacompete --manual_dir=DIR  # norm_data.txt
  python -m experiments.train --config=deepbind_rna:rnacompete \
      --config.task.proteins='("RNCMPT00002",)' --workdir=/tmp/rncmpt00002

The paper's RNAcompete model: 16 motif detectors of 16 nt (the probes are 30-41 nt),
learned thresholds, max + average pooling, one hidden layer of 32 ReLUs (the paper
chose between none and 32 per protein), dropout on the pooled features, one output;
targets are intensities clipped at the 99.95th percentile and standardised, squared
error, trained on set A and scored on set B by Pearson and Spearman correlation
(``probe_intensity``; plus the AUROC of probes > 2 SD). The paper trained each protein
by SGD with momentum, batches of 64, 20,000 steps, learning rate (0.0005-0.05),
dropout and initial weights picked per protein by random search; we use Adam with one
learning rate and no search.

Variants: default (the four synthetic proteins of ``synthetic_rna/probes`` as four
outputs sharing the detectors), ``<protein>`` (``PUM2``, ``QKI``, ``RBFOX1``,
``HNRNPA1``: the paper's one model per protein), ``tiny`` (``tiny_probes``, seconds),
``rnacompete`` (the real table; one experiment per model, ``RNCMPT00001`` unless
``task.proteins`` names another; several need ``model.num_outputs`` to match).

Measured (2-core CPU at load ~25, ``synthetic_rna`` 1.0.0): the default run (4,000
steps, ~20 min there) reached test (set B) Pearson 0.736, Spearman 0.471 and AUROC 0.970
averaged over the four proteins (0.72-0.76 each; the noise allows Pearson ~0.95,
Spearman ~0.72); ``:PUM2`` alone (2,000 steps, ~1 min at low load) 0.734 / 0.450 /
0.967; ``:tiny`` (600 steps) 0.70 / 0.45 / 0.96.
"""

import ml_collections

from experiments.configs import _base

from data_builders.synthetic_rna import synthetic_rna

PROTEINS = tuple(synthetic_rna.RBP_MOTIFS)


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
  variant = arg or "default"
  _base.check_variant("deepbind_rna", variant, ("default", "tiny", "rnacompete") + PROTEINS)
  config = _base.base_config(
      dataset="synthetic_rna/probes", model_name="deepbind", model_preset="rnacompete",
      # The given strand only: RNAcompete probes are single-stranded RNA.
      model=dict(num_outputs=len(PROTEINS), strands="forward", dropout_rate=0.25),
      task_name="probe_intensity", task=dict(proteins=PROTEINS, positive_sd=2.0),
      batch_size=64,  # The paper's.
      optimizer=dict(learning_rate=3e-3), num_train_steps=4000, log_every_steps=200,
      eval_every_steps=1000, checkpoint_every_steps=1000, best_metric="valid/pearson")
  if variant in PROTEINS:
    config.model.num_outputs = 1
    config.task.proteins = (variant,)
  elif variant == "tiny":
    config.dataset.name = "synthetic_rna/tiny_probes"
    config.model_preset = "tiny"
    config.model.num_outputs = len(PROTEINS)
    config.eval_batch_size = 500
    config.optimizer.update(learning_rate=1e-2, warmup_steps=20)
    config.num_train_steps = 600
    _base.use_full_eval(config, log_every_steps=50, eval_every_steps=300)
  elif variant == "rnacompete":
    config.dataset.name = "rnacompete"
    config.dataset.build_if_missing = False
    # One experiment per model, as the paper; name another in task.proteins.
    config.model.num_outputs = 1
    config.task.proteins = ("RNCMPT00001",)
  return config


def get_sweep(arg: str | None = None) -> list[dict]:
  """The paper's learning-rate range, three points of it."""
  del arg
  return _base.learning_rate_sweep(5e-4, 5e-3, 5e-2)
