r"""Time one side of ``reference_compare``: ours, with the trainer's own jitted steps.

  python -m experiments.benchmarks.reference_jax --model=deepsea

The experiment config of each model resized to the compared (published) size, with Adam
(lr 1e-3, no clipping or schedule) as on the PyTorch side; the batch of
``reference_inputs`` with sequences as the datasets store them (uint8 one-hot).
Prints one JSON line from ``jax_steps.measure_experiment``: compile times, the first
train step, train and eval step times to steady state (median, IQR), XLA FLOPs per
step, the matmul peak and MFU, temp buffers and peak RSS.
"""

from __future__ import annotations


import numpy as np

from experiments.benchmarks import jax_steps
from experiments.benchmarks import reference_inputs as inputs


def config(model: str, quick: bool = False):
  """The experiment config of ``model`` at the compared size, Adam without clipping."""
  import ml_collections
  from experiments import configs

  inputs.check_model(model)
  name = {"deepsea": "deepsea", "danq": "danq", "enformer": "enformer_human_mouse",
          "bpnet": "bpnet"}[model]
  config = configs.get_config(name)
  with config.unlocked():
    config.batch_size = inputs.batch_size(model, quick)
    config.optimizer = ml_collections.ConfigDict(dict(
        name="adam", learning_rate=inputs.LEARNING_RATE, schedule="constant",
        warmup_steps=0, clip_norm=0.0, b1=0.9, b2=0.999, eps=1e-8, weight_decay=0.0,
        grad_accum_steps=1))
    if model in ("deepsea", "danq"):
      config.model.num_outputs = inputs.DEEPSEA_OUTPUTS
      config.task.label_names = ()
      if model == "danq":
        config.model.gate_activation = "sigmoid"  # As torch.nn.LSTM.
    elif model == "enformer":
      config.model_preset = "paper"
      config.model = ml_collections.ConfigDict(dict(remat=False, **inputs.ENFORMER))
    else:
      # bpnet-lite's BPNet(n_filters=64, n_layers=8, n_outputs=2): one total count,
      # default trim 557 (2,114 -> 1,000); its count_loss_weight defaults to 1.
      config.model_preset = "bpnet_lite"
      config.model = ml_collections.ConfigDict(dict(
          n_filters=64, n_layers=8, n_outputs=2, n_count_outputs=1, n_control_tracks=2))
      config.task = ml_collections.ConfigDict(dict(count_weight=1.0, tracks_per_task=2))
  return config


def run(model: str, quick: bool = False) -> dict:
  from genereg_jax.train import trainer

  import_rss = jax_steps.rss_mb()
  cfg = config(model, quick)
  experiment = trainer.Experiment(cfg)
  batch_np = inputs.make_batch(model, cfg.batch_size)
  batch_np["sequence"] = batch_np["sequence"].astype(np.uint8)  # The model casts.
  example = {k: v[0] for k, v in batch_np.items()}
  result = jax_steps.measure_experiment(experiment, example, batch_np,
                                        **inputs.steps(quick))
  return {"side": "jax", "model": model,
          "implementation": f"genereg_jax ({cfg.model_name}, trainer jit step)",
          **result, "import_rss_mb": import_rss, "peak_rss_mb": jax_steps.peak_rss_mb()}


def main(argv=None) -> None:
  inputs.side_main(run, __doc__, argv)


if __name__ == "__main__":
  main()
