r"""DeepBind (Alipanahi et al. 2015) on the embedded synthetic JASPAR-motif data, 200 bp.

  python -m experiments.train --config=deepbind --workdir=/tmp/deepbind
  python -m experiments.train --config=deepbind:tiny --workdir=/tmp/deepbind_tiny

The model is the paper's DNA model (16 motif detectors of 24, learned rectification
thresholds, max + average pooling, 32 hidden ReLU units; 2,641 parameters per protein)
in reverse-complement mode, with one output per synthetic label sharing the detectors
(DeepBind trained one model per protein). It reads ``synthetic_motifs/len200``:
DeepBind's 101 bp ChIP-seq windows are too short for the grammar's decoys (PU.1-C/EBP
pairs >= 100 bp apart), and global pooling makes the model length-agnostic. Global
pooling also discards where motifs are: the spacing and orientation labels
(``oct_sox_composite``, ``pu1_cebp_pair``, ``ctcf_convergent``) are reachable only
through which motifs co-occur on a strand and through detectors wide enough to span a
composite site, the gap DeepSEA/DanQ-style models close. On the 2-core CPU reference
machine the default run (3,000 steps of 64) takes ~5 min and reached a test mean AUROC
of 0.84 (NFYA and GATA1 stayed near chance); ``:tiny`` (16 detectors of 12, 1,000 steps
on ``synthetic_motifs/tiny``) takes about a minute and reached 0.82 on synthetic_motifs
1.1.0 and 0.91 on 1.2.0 (strong planted sites); its filters matched 4 of the 10 planted
JASPAR motifs as top-1 and 7 of 10 within the top 5 (``experiments.filter_motifs``).
Variants: ``tiny``. ``get_sweep`` sweeps the learning rate.
"""

import ml_collections

from experiments.configs import _base

from data_builders.synthetic_motifs import synthetic_motifs


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
  variant = arg or "default"
  _base.check_variant("deepbind", variant, ("default", "tiny"))
  # The paper's DNA model, both strands (max), one output per label. The paper
  # calibrated dropout per protein (keep probability 0.5, 0.75 or 1); with 13 labels
  # sharing 16 detectors, none (keep 1) works best on the synthetic set. It used SGD
  # with momentum, batches of 64 and 20,000 steps, with the learning rate (0.0005-0.05),
  # dropout and initial weights calibrated per protein by random search; Adam needs no
  # calibration on the synthetic set.
  config = _base.base_config(
      dataset="synthetic_motifs/len200", model_name="deepbind", model_preset="paper",
      model=dict(num_outputs=len(synthetic_motifs.LABEL_NAMES), strands="max",
                 dropout_rate=0.0),
      task_name="multilabel_binary", task=dict(label_names=synthetic_motifs.LABEL_NAMES),
      optimizer=dict(learning_rate=3e-3), num_train_steps=3000, log_every_steps=100,
      eval_every_steps=1000, checkpoint_every_steps=1000)

  if variant == "tiny":
    _base.use_tiny_synthetic_motifs(config, learning_rate=1e-2, num_train_steps=1000)
    config.log_every_steps = 50
  return config


def get_sweep(arg: str | None = None) -> list[dict]:
  """Learning-rate sweep around the default (three trials)."""
  del arg
  return _base.learning_rate_sweep(1e-3, 3e-3, 1e-2)
