r"""DeepLoc (Almagro Armenteros et al., Bioinformatics 2017): subcellular location (10
classes) and membrane association from the first and last 500 residues.

  python -m experiments.train --config=deeploc --workdir=/tmp/deeploc
  python -m experiments.train --config=deeploc:hierarchical --workdir=/tmp/deeploc_tree
  python -m experiments.train --config=deeploc:small --workdir=/tmp/deeploc_small
  python -m experiments.train --config=deeploc:tiny --workdir=/tmp/deeploc_tiny
  python -m data_builders.build --dataset=uniprot_localization/deeploc --manual_dir=DIR
  python -m experiments.train --config=deeploc:uniprot --workdir=/tmp/deeploc_uniprot

The paper's model (``genereg_jax.models.deeploc``: six convolution widths, BiLSTM 256,
10-step attention decoder, dense 512; ``model_inputs`` sequence and mask) with the
released training settings (``train.py``): Adam at 5e-4, batches of 128, gradients
clipped to a total norm of 3 (``total_norm_constraint``), 200 epochs (here steps);
BLOSUM62 input (the paper's best input is PSI-BLAST profiles, which the builders can
store in the same layout). Task ``localization``: location cross-entropy + the masked
membrane flag; accuracy, per-class MCC, Gorodkin's MCC, membrane accuracy/MCC/AUROC.

Variants, joined with commas (``deeploc:hierarchical,small``):
* model: flat softmax (default), ``hierarchical`` (the tree-likelihood output over the
  sorting-pathway tree), ``small`` (a CPU-sized model with the paper's structure:
  10 kernels per width as the released code, LSTM 32, decoder 64, dense 64);
* data: ``synthetic`` (default: ``synthetic_proteins/localization``, DeepLoc's classes
  from planted signal peptides, transit peptides, NLSs, TM helices and C-terminal
  tails, BLOSUM62, 1,000 positions), ``tiny`` (``synthetic_proteins/tiny_localization``:
  100 + 100 residues, tiny preset, seconds), ``uniprot`` (real Swiss-Prot annotations,
  ``uniprot_localization/deeploc``, built from ``--manual_dir``).

Measured (2-core CPU at load 20-30, ``synthetic_proteins/localization`` 1.0.0): after
300 steps of 32 (~5 epochs, ~30 min each there) ``:small`` reached valid accuracy 0.232,
Gorodkin MCC 0.165 and ``:hierarchical,small`` 0.276 / 0.227 (chance 0.10 / 0.0; both
still learning: the location loss was still falling); the membrane flag is learnt by
both (valid AUROC 0.998 / 0.999, MCC 0.967 / 0.951). Train step of the paper-size model
(3,486,307 parameters, 1,000 positions, batch 16): 26.7 s (0.60 examples/s, 21.9 GFLOP,
compile 227 s, peak RSS 1.5 GB) at load ~26, CPU. See README ("Phosphosites and
localisation").
"""

import ml_collections

from experiments.configs import _base

MODELS = ("hierarchical", "small")
DATA = ("synthetic", "tiny", "uniprot")
SMALL = dict(filters_per_width=10, second_conv_filters=32, lstm_units=32, attention_units=32,
             decoder_units=64, dense_units=64)


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
  parts = [p for p in (arg or "").split(",") if p]
  for part in parts:
    _base.check_variant("deeploc", part, MODELS + DATA)
  config = _base.base_config(
      dataset="synthetic_proteins/localization", model_name="deeploc", model_preset="paper",
      model=dict(hierarchical="hierarchical" in parts), task_name="localization",
      task=dict(membrane_weight=1.0), model_inputs=("sequence", "mask"),
      batch_size=128, eval_batch_size=128,  # The released code's.
      optimizer=dict(learning_rate=5e-4, warmup_steps=0, schedule="constant", clip_norm=3.0),
      num_train_steps=3000, best_metric="valid/accuracy")
  _base.use_full_eval(config, log_every_steps=50, eval_every_steps=500)
  if "small" in parts:
    config.model.update(SMALL)
    config.batch_size = 32
    config.optimizer.learning_rate = 2e-3
    config.num_train_steps = 800
    _base.use_full_eval(config, log_every_steps=50, eval_every_steps=200)
  if "tiny" in parts:
    config.dataset.name = "synthetic_proteins/tiny_localization"
    config.model_preset = "tiny"
    config.batch_size = 32
    config.eval_batch_size = 40
    config.optimizer.learning_rate = 1e-2
    config.num_train_steps = 120
    _base.use_full_eval(config, log_every_steps=20, eval_every_steps=60)
  elif "uniprot" in parts:
    _base.use_manual_dataset(config, "uniprot_localization/deeploc", num_train_steps=20000,
                             every_steps=1000)
  return config


def get_sweep(arg: str | None = None) -> list[dict]:
  """Learning-rate sweep around the released 5e-4 (three trials)."""
  del arg
  return _base.learning_rate_sweep(2e-4, 5e-4, 1e-3)
