r"""BPNet on mESC ChIP-nexus of Oct4, Sox2, Nanog and Klf4 (Avsec et al., Nat Genet 2021).

Build the dataset once from the paper's files (GEO GSE137193; the BPNet
authors' data directory, http://mitra.stanford.edu/kundaje/avsec/chipnexus/
paper/data/, has per-factor ``chip-nexus/<TF>/counts.{pos,neg}.bw`` and
``idr-optimal-set.summit.bed.gz``, the PATCH-CAP control
``chip-nexus/patchcap/counts.{pos,neg}.bw`` and mm10), then train:

  D=/data/bpnet; N=$D/chip-nexus
  python -m data_builders.bpnet_profiles.make --name=mesc --data_dir=/data/tfds \
      --fasta=$D/mm10_no_alt_analysis_set_ENCODE.fasta \
      --peaks=$N/Oct4/idr-optimal-set.summit.bed.gz,$N/Sox2/idr-optimal-set.summit.bed.gz,$N/Nanog/idr-optimal-set.summit.bed.gz,$N/Klf4/idr-optimal-set.summit.bed.gz \
      --task=Oct4:$N/Oct4/counts.pos.bw,$N/Oct4/counts.neg.bw \
      --task=Sox2:$N/Sox2/counts.pos.bw,$N/Sox2/counts.neg.bw \
      --task=Nanog:$N/Nanog/counts.pos.bw,$N/Nanog/counts.neg.bw \
      --task=Klf4:$N/Klf4/counts.pos.bw,$N/Klf4/counts.neg.bw \
      --control=$N/patchcap/counts.pos.bw,$N/patchcap/counts.neg.bw \
      --valid=chr2,chr3,chr4 --test=chr1,chr8,chr9 --exclude=chrX,chrY \
      --input_length=1000 --output_length=1000
  python -m experiments.train --config=bpnet_mesc --workdir=/tmp/bpnet_mesc \
      --config.dataset.data_dir=/data/tfds

The default is the paper's setup (bpnet9.gin of kundajelab/bpnet): 1 kb in
and out ('same' padding), 64 filters, first conv 25, nine dilated layers,
profile kernel 25, a multinomial per strand and a log-count MSE per strand
with lambda = 10, Adam at 4e-3, batch 128, chromosome hold-out as above,
early stopping on validation loss (here: best checkpoint by ``valid/loss``).
``:lite`` is bpnet-lite's geometry (2,114 bp in, 1,000 out, eight
layers, profile kernel 75): build it with ``--name=mesc_lite
--input_length=2114`` (and optionally ``--max_jitter=128``; see
``data_builders/bpnet_profiles`` for the crop transforms).
"""

import ml_collections

from experiments.configs import _base, bpnet

TASKS = ("Oct4", "Sox2", "Nanog", "Klf4")
TRACK_NAMES = tuple(f"{t}/{s}" for t in TASKS for s in ("plus", "minus"))
VARIANTS = ("paper", "lite")


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
  variant = arg or "paper"
  _base.check_variant("bpnet_mesc", variant, VARIANTS)
  # Avsec et al.: one profile and one count per task and strand; the PATCH-CAP control
  # enters as bpnet-lite feeds it. Batch 128 (bpnet9.gin); ~150k summits / 128 per step
  # is ~1,150 steps per epoch, so 20,000 steps is ~17 epochs.
  config = _base.base_config(
      dataset="bpnet_profiles/mesc", build_if_missing=False,
      model_inputs=("sequence", "control"), batch_size=128, eval_batch_size=128,
      reverse_complement=True, model_name="bpnet.BPNet", model_preset="paper",
      model=dict(n_outputs=len(TRACK_NAMES), n_count_outputs=len(TRACK_NAMES),
                 n_control_tracks=2),
      task_name="profile", task=bpnet.profile_task(TRACK_NAMES),
      optimizer=bpnet.BPNET_OPTIMIZER, num_train_steps=20_000, log_every_steps=100,
      eval_every_steps=1000, checkpoint_every_steps=1000, best_metric="valid/loss",
      best_mode="min")

  if variant == "lite":
    config.dataset.name = "bpnet_profiles/mesc_lite"
    config.model_preset = "bpnet_lite"
    config.batch_size = 64  # bpnet-lite's fit() default.
    config.optimizer.learning_rate = 1e-3
  return config
