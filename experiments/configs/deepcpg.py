r"""DeepCpG (Angermueller et al., Genome Biol. 2017): single-cell CpG methylation imputation.

  python -m experiments.train --config=deepcpg --workdir=/tmp/deepcpg
  python -m experiments.train --config=deepcpg:tiny --workdir=/tmp/deepcpg_tiny
  python -m experiments.compare_baselines --config=deepcpg:tiny --workdir=/tmp/deepcpg_tiny
  python -m data_builders.build --dataset=bismark_cpg/manual --manual_dir=DIR  # .cov + FASTA
  python -m experiments.train --config=deepcpg:real --config.model.num_cells=N \
      --workdir=/tmp/deepcpg_real

The paper's model (``CnnL2h128`` DNA module on 1,001 bp, ``RnnL1`` CpG module: dense 256
+ bidirectional GRU 256 over cells, ``JointL2h512``; 5.5 M parameters with 16 cells) on
the embedded ``bismark_cpg/synthetic`` cells (16 cells of two types, 25 neighbours per
side, methylation domains with cell-specific flips and CRE motifs that protect their
CpG), written as Bismark ``.cov.gz`` files + FASTA and read back. ``:tiny`` is the tiny
preset on ``bismark_cpg/tiny`` (6 cells, 4 neighbours); ``:real`` reads per-cell
Bismark coverage files + a genome FASTA (DeepCpG's chromosome split). The loss is BCE
over observed (cell, CpG) pairs only (labels -1 masked). ``experiments.compare_baselines``
scores the neighbour-average baseline on the same test CpGs beside the trained model.
Measured on the shared 2-core CPU (load 30-43), test split: the tiny preset on
``bismark_cpg/synthetic`` (``--config.dataset.name=bismark_cpg/synthetic
--config.model.num_cells=16``, 1,500 steps of 32, 4 min) reached AUROC 0.828 against
0.784 for the best neighbour average (within 1 kb; 0.644 with all 25 neighbours per
side) and 0.946 for the true probabilities. ``:tiny`` itself (980 training CpGs, 600
steps) reached 0.736 against 0.767: too little data to beat the baseline. The paper-size
model was not trained here (about 15x the tiny preset's step cost on this CPU).
Variants: ``tiny``, ``real``.
"""

import ml_collections

from experiments.configs import _base
from experiments.configs import model_config

VARIANTS = ("default", "tiny", "real")


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
  variant = arg or "default"
  _base.check_variant("deepcpg", variant, VARIANTS)
  # dcpg_train.py: Adam 1e-4 (decayed 0.975 per epoch), batch 128, L1 = L2 = 1e-4. The
  # synthetic set is learnt in minutes at 1e-3 with the framework's warm-up + cosine.
  config = _base.base_config(
      dataset="bismark_cpg/synthetic", model_name="deepcpg", model_preset="paper",
      model=model_config("deepcpg", "paper", num_cells=16), task_name="multilabel_binary",
      task=dict(), model_inputs=("sequence", "cpg_state", "cpg_dist"), batch_size=128,
      num_train_steps=2000, eval_every_steps=500, checkpoint_every_steps=500,
      best_metric="valid/auroc")
  if variant == "tiny":
    config.dataset.name = "bismark_cpg/tiny"
    config.model_preset = "tiny"
    config.model = model_config("deepcpg", "tiny", num_cells=6)
    config.batch_size = 32
    config.optimizer.update(warmup_steps=20)
    config.num_train_steps = 600
    _base.use_full_eval(config, log_every_steps=50, eval_every_steps=200)
  elif variant == "real":
    _base.use_manual_dataset(config, "bismark_cpg/manual", num_train_steps=50_000,
                             every_steps=5000)
    config.optimizer.learning_rate = 1e-4  # The published rate on real data.
  return config


def get_sweep(arg: str | None = None) -> list[dict]:
  """Learning-rate sweep around the default (three trials)."""
  del arg
  return _base.learning_rate_sweep(3e-4, 1e-3, 3e-3)
