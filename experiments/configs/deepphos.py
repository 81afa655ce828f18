r"""DeepPhos (Luo et al., Bioinformatics 2019): general, residue- and kinase-specific
phosphosite models.

  python -m experiments.train --config=deepphos --workdir=/tmp/deepphos
  python -m experiments.train --config=deepphos:st --workdir=/tmp/deepphos_st
  python -m experiments.train --config=deepphos:y --workdir=/tmp/deepphos_y
  python -m experiments.train --config=deepphos:kinase=PKA --workdir=/tmp/deepphos_pka \
      --config.init_from_kwargs.workdir=/tmp/deepphos_st
  python -m experiments.train --config=deepphos:tiny --workdir=/tmp/deepphos_tiny
  python -m data_builders.build --dataset=uniprot_ptm/phospho --manual_dir=DIR
  python -m experiments.train --config=deepphos:st,uniprot --workdir=/tmp/deepphos_uniprot

The released model (``genereg_jax.models.deepphos``: dense blocks over the 51/33/15
windows, all cut from one 51-residue window) with the released training settings: Adam
at 1e-3, batches of 512, Keras L2 1e-4 on the weights (here ``weight_decay`` 2e-4 added
to the gradient, the same penalty's derivative). Task ``phospho_sites`` (``ptm_sites``
on the chosen columns: masked BCE; AUROC, AUPRC, MCC at the best-F1 threshold).

Variants, joined with commas (``deepphos:kinase=CDK,tiny``):
* model: ``general`` (default: one output per residue class, S/T and Y, each masked to
  its residues), ``st`` / ``y`` (the residue-specific models, one output),
  ``kinase=<name>`` (one kinase's sites against the other candidates of its residue
  class, initialised from the residue-specific model's best checkpoint, as the
  released ``train_for_deepphos(..., background_weight=...)``: set
  ``init_from_kwargs.workdir``; default ``/tmp/deepphos_st``, ``/tmp/deepphos_y`` for
  SRC), ``frozen`` (with ``kinase=``: only the dense head is trained; the three window
  branches stay as transferred), ``scratch`` (with ``kinase=``: no transfer, the
  baseline the transfer must beat);
* data: ``synthetic`` (default: ``synthetic_proteins/phospho``, planted PKA R-R-x-S/T,
  CDK S/T-P-x-K/R, CK2 S/T-x-x-E/D and Src-like E/D-E/D-I/V/L-Y motifs, kinases PKA, CDK,
  CK2, SRC), ``tiny`` (``synthetic_proteins/tiny_phospho``, tiny preset, seconds),
  ``uniprot`` (real Swiss-Prot sites with kinase families CDK, CK2, MAPK, PKA, PKC,
  SRC: ``uniprot_ptm/phospho``, built from ``--manual_dir``), ``phospho_elm``
  (Phospho.ELM, DeepPhos' own source: ``uniprot_ptm/phospho_elm``).

Measured (2-core CPU at load 20-30, ``synthetic_proteins`` 1.0.0, shortened runs with
batches of 128): ``:st`` (400 steps, 10 min) reached test AUROC 0.965, AUPRC 0.943,
MCC 0.936 on the S/T sites; ``:kinase=PKA`` from it (150 steps) and ``:kinase=PKA,scratch``
(150 steps) both separate PKA sites from the other S/T candidates perfectly (test AUROC,
AUPRC, MCC 1.000: the planted R-R-x-S/T rule is exact), but the transferred model gets
there sooner: training loss 0.066 vs 0.241 at step 25, 0.008 vs 0.177 at step 50, test
loss 0.0007 vs 0.065 at step 150. The ``:st`` model itself, scored on PKA sites, gets
test AUROC 0.747, AUPRC 0.299, MCC 0.297 (it finds S/T sites, not PKA's). See README
("Phosphosites and localisation").
"""

import ml_collections

from experiments.configs import _base

MODELS = ("general", "st", "y")
DATA = ("synthetic", "tiny", "uniprot", "phospho_elm")
KINASES = ("PKA", "CDK", "CK2", "SRC")
#: Kinases of tyrosines; the others phosphorylate S/T.
TYROSINE_KINASES = ("SRC",)
SITE_TYPES = {"general": ("phospho_ST", "phospho_Y"), "st": ("phospho_ST",),
              "y": ("phospho_Y",)}


def parse_variant(arg: str | None) -> dict:
  """``"kinase=PKA,frozen,tiny"`` -> ``{"model": "st", "kinase": "PKA", ...}``."""
  parsed = dict(model="general", data="synthetic", kinase=None, frozen=False, scratch=False)
  for part in filter(None, (arg or "").split(",")):
    if part.startswith("kinase="):
      parsed["kinase"] = part.partition("=")[2]
      continue
    _base.check_variant("deepphos", part,
                        MODELS + DATA + ("frozen", "scratch") + tuple(f"kinase={k}"
                                                                     for k in KINASES))
    if part in MODELS:
      parsed["model"] = part
    elif part in DATA:
      parsed["data"] = part
    else:
      parsed[part] = True
  if (parsed["frozen"] or parsed["scratch"]) and not parsed["kinase"]:
    raise ValueError("deepphos config: 'frozen' and 'scratch' apply to kinase=<name>")
  return parsed


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
  variant = parse_variant(arg)
  config = _base.base_config(
      dataset="synthetic_proteins/phospho", model_name="deepphos", model_preset="paper",
      model=dict(num_outputs=len(SITE_TYPES[variant["model"]])), task_name="phospho_sites",
      task=dict(site_types=SITE_TYPES[variant["model"]]),
      batch_size=512, eval_batch_size=512,  # The released nb_batch_size.
      optimizer=dict(learning_rate=1e-3, warmup_steps=50, clip_norm=0.0, weight_decay=2e-4),
      num_train_steps=1500, best_metric="valid/auprc")
  _base.use_full_eval(config, log_every_steps=50, eval_every_steps=500)
  config.model_inputs = ("sequence",)

  kinase = variant["kinase"]
  if kinase:
    residues = "phospho_Y" if kinase in TYROSINE_KINASES else "phospho_ST"
    config.model.num_outputs = 1
    config.task = ml_collections.ConfigDict(dict(kinases=(kinase,), kinase_residues=residues))
    config.num_train_steps = 600
    if not variant["scratch"]:
      # Transfer learning from the residue-specific model (same one-output shape).
      config.init_from = "genereg_jax.models.deepphos:load_from_workdir"
      config.init_from_kwargs = ml_collections.ConfigDict(dict(
          workdir="/tmp/deepphos_y" if residues == "phospho_Y" else "/tmp/deepphos_st",
          which="best"))
    if variant["frozen"]:
      config.optimizer.frozen = ("branch_51", "branch_33", "branch_15")

  if variant["data"] == "tiny":
    config.dataset.name = "synthetic_proteins/tiny_phospho"
    config.model_preset = "tiny"
    config.batch_size = 64
    config.eval_batch_size = 128
    config.optimizer.update(learning_rate=3e-3, warmup_steps=10)
    config.num_train_steps = 150
    _base.use_full_eval(config, log_every_steps=25, eval_every_steps=75)
    if "init_from_kwargs" in config:
      config.init_from_kwargs.workdir += "_tiny"
  elif variant["data"] in ("uniprot", "phospho_elm"):
    name = "phospho" if variant["data"] == "uniprot" else "phospho_elm"
    _base.use_manual_dataset(config, f"uniprot_ptm/{name}", num_train_steps=20000,
                             every_steps=1000)
  return config


def get_sweep(arg: str | None = None) -> list[dict]:
  """Learning-rate sweep around the released 1e-3 (three trials)."""
  del arg
  return _base.learning_rate_sweep(3e-4, 1e-3, 3e-3)
