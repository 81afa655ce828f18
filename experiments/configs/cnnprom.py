r"""CNNProm (Umarov & Solovyev, PLoS ONE 2017): promoter / non-promoter windows.

  python -m experiments.train --config=cnnprom --workdir=/tmp/cnnprom
  python -m experiments.train --config=cnnprom:prokaryote --workdir=/tmp/cnnprom_ecoli
  python -m experiments.train --config=cnnprom:tiny --workdir=/tmp/cnnprom_tiny
  python -m data_builders.build --dataset=epd_promoters/human --manual_dir=EPD_HUMAN
  python -m experiments.train --config=cnnprom:real_human --workdir=/tmp/cnnprom_epd

``:eukaryote`` (the default) is the paper's eukaryote model (251 bp, -200..+50; 200
filters of 21, pool 4, 128 hidden units, dropout 0.5) on the embedded
``synthetic_promoters/eukaryote`` windows (planted TATA / Inr / CpG grammar; a third of
the negatives are decoys: an orphan CpG island, a TATA box or an Inr alone);
``:prokaryote`` the 81-bp sigma70 model (-60..+20, pool 2) on
``synthetic_promoters/prokaryote``. ``:real_<species>`` read EPD (human, mouse,
Arabidopsis: BED or FPS + genome FASTA) or RegulonDB / DBTBS (E. coli, B. subtilis)
through ``epd_promoters`` (build it first, above). The paper reports Sn/Sp/CC (our
``sn``/``sp``/``mcc``), e.g. E. coli sigma70 0.90/0.96/0.84, human TATA 0.95/0.98/0.90.
Measured on the shared 2-core CPU machine (load 18-36): ``:eukaryote``, 3,000 steps of
64 (~32 min), test accuracy 0.993, MCC 0.985, Sn 0.999 / Sp 0.987, AUROC 0.9996 on
synthetic_promoters 1.0.0 (chance 0.5); the decoys (an island, a TATA box or an Inr
alone) are what keeps Sp below 1. ``:prokaryote``,
3,000 steps of 64 (~23 min): test accuracy 0.993, MCC 0.987, Sn 1.000 / Sp 0.987,
AUROC 1.000 (the -10-only and wrong-spacer decoys are the errors).
Variants: ``eukaryote``, ``prokaryote``, ``tiny``, ``real_human``, ``real_mouse``,
``real_arabidopsis``, ``real_ecoli``, ``real_bsubtilis``.
"""

import ml_collections

from experiments.configs import _base
from experiments.configs import model_config

REAL = {"real_human": "human", "real_mouse": "mouse", "real_arabidopsis": "arabidopsis",
        "real_ecoli": "ecoli", "real_bsubtilis": "bsubtilis"}
VARIANTS = ("default", "eukaryote", "prokaryote", "tiny", *REAL)


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
  variant = arg or "default"
  _base.check_variant("cnnprom", variant, VARIANTS)
  # The paper trains with Adam-family updates, batch 16-64, until validation stops
  # improving; Adam 1e-3 with batches of 64 on the synthetic sets.
  config = _base.base_config(
      dataset="synthetic_promoters/eukaryote", model_name="cnnprom",
      model_preset="eukaryote", model=model_config("cnnprom", "eukaryote"),
      task_name="promoter_classification", task=dict(), batch_size=64,
      num_train_steps=3000, log_every_steps=100, eval_every_steps=1000,
      checkpoint_every_steps=1000, best_metric="valid/auroc")
  prokaryote = variant in ("prokaryote", "real_ecoli", "real_bsubtilis")
  if prokaryote:
    config.dataset.name = "synthetic_promoters/prokaryote"
    config.model_preset = "prokaryote"
    config.model = model_config("cnnprom", "prokaryote")
  if variant == "tiny":
    config.dataset.name = "synthetic_promoters/tiny_eukaryote"
    config.model_preset = "tiny"
    config.model = model_config("cnnprom", "tiny")
    config.num_train_steps = 1000
    _base.use_full_eval(config, log_every_steps=100, eval_every_steps=500)
  elif variant in REAL:
    _base.use_manual_dataset(config, f"epd_promoters/{REAL[variant]}",
                             num_train_steps=20_000, every_steps=2000)
  return config


def get_sweep(arg: str | None = None) -> list[dict]:
  """Learning-rate sweep around the default (three trials)."""
  del arg
  return _base.learning_rate_sweep(3e-4, 1e-3, 3e-3)
