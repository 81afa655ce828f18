r"""Seq-GraphReg and Seq-CNN (Karbalayghareh et al., Genome Res. 2022): DNA -> CAGE per node.

Two stages, as the paper trains it (``train/Seq-CNN_base.py`` then ``Seq-GraphReg.py``):

  # 1. Pretrain the sequence trunk (dilated CNN) to predict the 100-bp epigenomic tracks.
  python -m experiments.train --config=graphreg_seq:pretrain --workdir=/tmp/seq_stage1
  # 2. Graph head on the frozen trunk, copied from stage 1's best checkpoint.
  python -m experiments.train --config=graphreg_seq --workdir=/tmp/seq_stage2 \
      --config.init_from_kwargs.workdir=/tmp/seq_stage1
  # Fine-tune the trunk too (the paper's Seq-GraphReg_e2e): add --config.model.freeze_trunk=False

Stage 1 trains ``graphreg`` with ``output="epi"`` (the trunk's dilated convs and one
exponential conv per track) under the ``coverage`` task's Poisson loss on the dataset's
``epi`` tracks. Stage 2 builds the full model; the trainer's ``init_from`` calls
``genereg_jax.models.graphreg:init_from_pretrained_trunk``, which restores stage 1 and
copies its trunk (parameters and batch-norm statistics) into a fresh stage-2 model; the
trunk then runs in inference mode without gradients (``model.freeze_trunk``, the
paper's ``trainable = False``), so its gradients are exactly zero and Adam leaves it
unchanged. ``tests/experiments/test_graphreg_configs.py`` runs both stages and checks
the stage-2 trunk equals stage 1's bit for bit.

Variants: ``synthetic`` (stage 2, default), ``pretrain``, ``cnn`` (Seq-CNN on the frozen
trunk, also from stage 1), the same with ``tiny_`` (``synthetic_graphs/tiny``: 40 nodes,
200 kb of sequence, tiny model) and ``real_`` (``data_builders.graphreg.make`` with ``--fasta``, then
``--config.dataset.name=graphreg/NAME --config.dataset.data_dir=D``). ``synthetic_graphs/sequence`` is 120 regions of 1.2 Mb
of DNA: the trunk convolves 1.2 M positions per region, so the non-tiny variants want an
accelerator (the paper trained on GPUs).

Not measured yet: the Seq-GraphReg vs Seq-CNN comparison on ``synthetic_graphs/sequence``
(the Epi pair's proof is in ``graphreg_epi``). On the shared 2-core CPU at load ~40, where
Akita's 32-kb synthetic preset trains at ~1.3 examples/s, two stages of hundreds of steps
over 1.2-Mb regions take many hours; it waits for an accelerator.
"""

import ml_collections

from experiments.configs import _base
from experiments.configs.graphreg_epi import graphreg_config

VARIANTS = ("synthetic", "pretrain", "cnn", "tiny", "tiny_pretrain", "tiny_cnn", "real",
            "real_pretrain", "real_cnn")


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
  variant = arg or "synthetic"
  _base.check_variant("graphreg_seq", variant, VARIANTS)
  size, _, stage = variant.rpartition("_")
  if variant in ("synthetic", "tiny", "real"):
    size, stage = ("" if variant == "synthetic" else variant), "graph"
  data = size or "synthetic"
  config = graphreg_config(data if stage != "cnn" else f"{data}_cnn", input_name="sequence")
  config.batch_size, config.eval_batch_size = (2, 2) if data == "synthetic" else (
      config.batch_size, config.eval_batch_size)
  if stage == "pretrain":
    # Seq-CNN_base: Poisson loss on the three 100-bp tracks (the paper averages per-track
    # losses; the coverage task's mean over bins and tracks is the same).
    config.model_inputs = ("sequence",)
    config.model.output = "epi"
    config.task_name = "coverage"
    config.task = ml_collections.ConfigDict(dict(target_key="epi", objective="poisson",
                                                 log_pearson=True))
    config.best_metric = "valid/pearsonr_log1p"
  else:
    # Frozen in the model (stop_gradient, batch norm on running statistics): its gradients
    # are exactly 0, so Adam leaves it unchanged. (optimizer.frozen's multi_transform
    # state does not survive the trainer's sharded init yet: MaskedNode vs sharding.)
    config.model.freeze_trunk = True
    config.init_from = "genereg_jax.models.graphreg:init_from_pretrained_trunk"
    config.init_from_kwargs = ml_collections.ConfigDict(dict(
        workdir=ml_collections.FieldReference(None, str), preset=config.model_preset,
        which="best", seed=config.seed))
    # The same ConfigDict: --config.model.* overrides reach the loader's model too.
    config.init_from_kwargs.model = config.model
  return config
