r"""MusiteDeep (Wang et al. 2017; web server 2020): PTM sites from 33-residue windows.

  python -m experiments.train --config=musitedeep --workdir=/tmp/musitedeep
  python -m experiments.train --config=musitedeep:cnn --workdir=/tmp/musitedeep_cnn
  python -m experiments.train --config=musitedeep:capsule --workdir=/tmp/musitedeep_caps
  python -m experiments.train --config=musitedeep:tiny --workdir=/tmp/musitedeep_tiny
  python -m data_builders.build --dataset=uniprot_ptm/musitedeep --manual_dir=DIR
  python -m experiments.train --config=musitedeep:uniprot --workdir=/tmp/musitedeep_uniprot

The model (``genereg_jax.models.musitedeep``, sizes from the released Keras code) is
the ensemble by default: the multi-layer CNN (BCE) and the capsule network (margin
loss), each on its own loss, predictions averaged (``ptm_sites`` task; its metrics are
AUROC, AUPRC and MCC at the best-F1 threshold per PTM type). One multi-label model over
the dataset's PTM types (``label_mask`` keeps each type to its residues); MusiteDeep
trained one binary model per type. Adam at 1e-3 as released (Keras ``Capsnet_main``
lr=0.001; the CNN uses Keras' default Adam, also 1e-3); batches of 500 as the capsule
script (the CNN script used 1,200).

Variants, joined with commas (``musitedeep:capsule,tiny``):
* model: ``ensemble`` (default), ``cnn``, ``capsule``;
* data: ``synthetic`` (default: ``synthetic_proteins/ptm``, six types with planted
  kinase, glycosylation, SUMO, methylation and ubiquitination motifs plus decoys),
  ``small`` (the same data, the ``small`` preset: a CPU-sized model with the paper's
  structure, dropout 0.2), ``tiny`` (``synthetic_proteins/tiny_ptm``, tiny preset, seconds),
  ``uniprot`` (real Swiss-Prot sites, ``uniprot_ptm/musitedeep``, built from
  ``--manual_dir``; MusiteDeep's 13 types).

Measured (2-core CPU at load 20-30, ``synthetic_proteins/ptm`` 1.0.0, test split, mean
over 6 types; ``small``, 600 steps of 128, seed 0): ``cnn,small`` AUROC 0.895, AUPRC
0.686, MCC 0.659 (7 min); ``capsule,small`` 0.935 / 0.839 / 0.758 (24 min); ``small``
(ensemble) 0.930 / 0.824 / 0.756 (12 min): the capsule net beats the CNN, and the average
does not beat the capsule net alone here. Paper-size ensemble train step
(``experiments.benchmarks.train_step``, batch 500): 23.3 s (21 examples/s) at load ~18.
"""

import ml_collections

from experiments.configs import _base

from data_builders.synthetic_proteins import synthetic_proteins
from data_builders.uniprot_ptm import records as ptm_records

MODELS = {"ensemble": "musitedeep", "cnn": "musitedeep.MusiteDeepCNN",
          "capsule": "musitedeep.MusiteDeepCapsNet"}
DATA = ("synthetic", "small", "tiny", "uniprot")
# The embedded data's types in label order, and MusiteDeep's 13 in uniprot_ptm's order.
SYNTHETIC_TYPES = tuple(synthetic_proteins.PTM_RULES)
UNIPROT_TYPES = tuple(ptm_records.PTM_TYPES)


def parse_variant(name: str, arg: str | None) -> tuple[str, str]:
  """``"capsule,tiny"`` -> ``("capsule", "tiny")``; defaults ensemble, synthetic."""
  model, data = "ensemble", "synthetic"
  for part in filter(None, (arg or "").split(",")):
    _base.check_variant(name, part, tuple(MODELS) + DATA)
    if part in MODELS:
      model = part
    else:
      data = part
  return model, data


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
  model, data = parse_variant("musitedeep", arg)
  config = _base.base_config(
      dataset="synthetic_proteins/ptm", model_name=MODELS[model], model_preset="paper",
      model=dict(num_outputs=len(SYNTHETIC_TYPES)), task_name="ptm_sites",
      # A single member reads its own loss; the ensemble's members map to theirs.
      task=dict(loss="margin" if model == "capsule" else "bce", ptm_types=SYNTHETIC_TYPES),
      batch_size=500, eval_batch_size=500,
      optimizer=dict(learning_rate=1e-3, warmup_steps=50, clip_norm=0.0),
      num_train_steps=1500, log_every_steps=50, eval_every_steps=500,
      checkpoint_every_steps=500)
  _base.use_full_eval(config, log_every_steps=50, eval_every_steps=500)
  if data == "small":
    config.model_preset = "small"
    # The released dropouts (0.7-0.75 on every CNN layer) suit its hundreds of epochs
    # with early stopping; in 600 steps the CNN stayed at chance with them (valid AUROC
    # 0.51 at step 300) while it reached 0.89 at step 150 without. 0.2 for both members.
    config.model.update(cnn_dropouts=(0.2,) * 4, dense_dropout=0.2, caps_dropouts=(0.2, 0.2))
    config.batch_size = 128
    config.num_train_steps = 600  # 1.4 epochs of the 54,808 training windows.
    _base.use_full_eval(config, log_every_steps=50, eval_every_steps=300)
  elif data == "tiny":
    config.dataset.name = "synthetic_proteins/tiny_ptm"
    config.model_preset = "tiny"
    config.batch_size = 64
    config.eval_batch_size = 128
    config.optimizer.update(learning_rate=3e-3, warmup_steps=10)
    config.num_train_steps = 200
    _base.use_full_eval(config, log_every_steps=20, eval_every_steps=100)
  elif data == "uniprot":
    _base.use_manual_dataset(config, "uniprot_ptm/musitedeep", num_train_steps=20000,
                             every_steps=1000)
    config.model.num_outputs = len(UNIPROT_TYPES)
    config.task.ptm_types = UNIPROT_TYPES
    config.max_eval_batches = None
  return config


def get_sweep(arg: str | None = None) -> list[dict]:
  """Learning-rate sweep around the released 1e-3 (three trials)."""
  del arg
  return _base.learning_rate_sweep(3e-4, 1e-3, 3e-3)
