r"""Pretrained vs from-scratch fine-tuning of ``dnabert_finetune``, many runs in one process.

  python -m experiments.finetune_compare --base=/tmp/dnabert_pre --variant=tiny,rotary \
      --modes=scratch,full,lora --examples=500,2000 --seeds=0,1
  python -m experiments.finetune_compare --base=/tmp/dnabert_pre --variant=tiny,rotary \
      --diagnose
  python -m experiments.finetune_compare --base=/tmp/dnabert_pre --mlm_motifs
  python -m experiments.finetune_compare --base=/tmp/dnabert_pre --variant=tiny,rotary \
      --modes=scratch,full --set=model.pooling=mean --set=optimizer.learning_rate_multipliers=()

Each run is ``dnabert_finetune:<variant>,<mode>,n=<examples>`` with ``--set`` overrides,
built by the trainer's ``Experiment`` (same model, optimizer, loss, pretrained
initialisation and metrics as ``experiments.train``), trained for the config's steps on
the first N training examples held in memory (shuffled each epoch with the seed), and
scored on ``--split``. One jitted step serves every seed and N of a mode, so a table of
pretrained-vs-scratch runs takes minutes where separate ``experiments.train`` runs spend
most of their time compiling and loading. It prints one JSON line per run (metrics,
trained / total parameters) and a table (mean ± half the range over the seeds).

``--lpft`` is LP-FT (Kumar et al., ICLR 2022) for every mode alike: the new head starts
from a linear probe (``genereg_jax.train.finetune.linear_probe_head``) of the starting
encoder's features on the N examples — the pretrained encoder's, or the random one's
for ``scratch`` — and then the run trains as its mode says, with no dropout before the
classifier (the probe reads the raw features; dropout would zero their large means).

``--mlm_motifs`` scores the pretraining run ``--base`` itself (its own config and MLM
head, its masking: ``dataset.k``, ``mlm_probability``, ``mask_span``) on 512 fresh
windows of grammar-genome sequence (``data_builders.synthetic_motifs.genome.elements``
of a chromosome index no genome writes) and prints masked-token accuracy and NLL
separately for tokens whose hidden nucleotides (those no unmasked neighbour spells,
``tasks.mlm.unknown_nucleotides``) all lie in planted motif sites and for those whose
hidden nucleotides lie in none: a base that learnt the motifs predicts them better
than background, which only the per-element GC informs.

``--diagnose`` prints, for the random and the pretrained encoder (the ``full`` config),
how much each pooled vector of the last hidden states varies across the examples
(standard deviation over examples, averaged over features, and the mean absolute value
for scale) and a standardised logistic-regression probe's AUROC on it (scikit-learn,
C = 0.05; train on the N examples, score ``--split``), without any fine-tuning.
"""

from __future__ import annotations

import ast
import json
import time

from absl import flags
from absl import logging

from experiments import common

flags.DEFINE_string("base", None, "dnabert_pretrain workdir (or .npz) for the pretrained runs.")
flags.DEFINE_string("variant", "tiny", "dnabert_finetune tokens other than mode and n.")
flags.DEFINE_list("modes", ["scratch", "full", "lora"], "Fine-tuning modes to run.")
flags.DEFINE_list("examples", ["500"], "Labelled training examples (train[:N]).")
flags.DEFINE_list("seeds", ["0", "1"], "Seeds (initialisation of new parameters, order).")
flags.DEFINE_multi_string("set", [], "Config override field=value for every run "
                          "(value parsed as a Python literal, else a string).")
flags.DEFINE_string("split", "test", "Split scored after training.")
flags.DEFINE_bool("diagnose", False, "Pooled-feature statistics and linear probes only.")
flags.DEFINE_bool("mlm_motifs", False, "MLM accuracy of the --base pretraining run on "
                  "planted-motif vs background nucleotides (fresh grammar-genome sequence).")
flags.DEFINE_bool("lpft", False, "LP-FT (Kumar et al. 2022): start each run's head from a "
                  "linear probe of its starting encoder's features, then train as the mode "
                  "says (sequence-level, binary labels).")

FLAGS = flags.FLAGS


def _config(mode: str, examples: int):
  from experiments import configs
  config = configs.get_config(f"dnabert_finetune:{FLAGS.variant},{mode},n={examples}")
  for item in FLAGS.set:
    field, _, text = item.partition("=")
    try:
      value = ast.literal_eval(text)
    except (ValueError, SyntaxError):
      value = text
    parent = config
    *path, leaf = field.split(".")
    for name in path:
      parent = parent[name]
    parent[leaf] = value
  if FLAGS.lpft:
    # The probe is folded onto the raw, uncentred features (values ~0.6, spread ~0.07):
    # dropout there zeroes whole means and moves a probe logit by several units (train
    # loss 1.2 at step 100 against 0.50 without the probe, measured).
    config.model.classifier_dropout = 0.0
  if config.init_from:
    if not FLAGS.base:
      raise SystemExit(f"error: mode {mode!r} needs --base (a dnabert_pretrain workdir)")
    config.init_from_kwargs.path = FLAGS.base
  return config


def _arrays(config, split: str):
  import numpy as np
  from genereg_jax.train import trainer
  source = trainer.load_split(config, split)
  keys = (*config.model_inputs, "label")
  rows = [source[i] for i in range(len(source))]
  return {k: np.stack([np.asarray(r[k]) for r in rows]) for k in keys}


def _evaluate(experiment, eval_step, params, batch_stats, data, batch_size=128):
  import jax
  import numpy as np
  task = experiment.task
  metrics = task.new_metrics()
  for start in range(0, len(data["label"]), batch_size):
    batch = {k: v[start:start + batch_size] for k, v in data.items()}
    predictions, _, _ = eval_step(params, batch_stats, batch)
    metrics.update(jax.device_get(predictions), {k: batch[k] for k in task.target_keys})
  return {k: float(v) for k, v in metrics.compute().items() if np.ndim(v) == 0}


def _probe_head(experiment, state, shardings, data, batch_size=128):
  """``state`` with the classifier set to a linear probe of the starting encoder's
  features on the training examples (LP-FT's first stage)."""
  import jax
  import numpy as np
  from genereg_jax.nn import adapters
  from genereg_jax.train import finetune
  model = experiment.model
  if isinstance(model, adapters.Adapted):  # LoRA / IA3 start equal to the base.
    model = model.base
  features = jax.jit(lambda p, x: model.apply({"params": p}, x, method=model.features))
  sequences = data[experiment.inputs[0]]
  pooled = np.concatenate([jax.device_get(features(state.params, sequences[i:i + batch_size]))
                           for i in range(0, len(sequences), batch_size)])
  kernel, bias = finetune.linear_probe_head(pooled, data["label"])
  params = dict(state.params, classifier=dict(kernel=kernel, bias=bias))
  return state.replace(params=jax.device_put(params, shardings.params))


def _train(config, data, evaluated, experiment=None, cache=None):
  """One run; ``cache`` keeps the jitted steps of an experiment for the next seed / N."""
  import jax
  import numpy as np
  from genereg_jax.train import finetune
  from genereg_jax.train import trainer
  example = {k: v[0] for k, v in data.items()}
  if experiment is None:
    experiment = trainer.Experiment(config)
  experiment.config = config
  state, shardings, _ = experiment.create_state(example)
  if FLAGS.lpft:
    state = _probe_head(experiment, state, shardings, data)
  if "train" not in cache:
    cache["train"] = experiment.jit_train_steps(shardings)[None]
    cache["eval"] = jax.jit(trainer.make_eval_step(experiment.model, experiment.task,
                                                   experiment.inputs))
  rng = np.random.default_rng(config.seed)
  n, batch_size = len(data["label"]), config.batch_size
  order = np.empty(0, np.int64)
  start = time.time()
  for _ in range(config.num_train_steps):
    if len(order) < batch_size:  # A new epoch, shuffled (the remainder carried over).
      order = np.concatenate([order, rng.permutation(n)])
    index, order = order[:batch_size], order[batch_size:]
    state, metrics = cache["train"](state, {k: v[index] for k, v in data.items()})
    if int(state.step) % 100 == 0:
      logging.info("%s step %d loss %.4f", config.get("init_from") or "scratch",
                   int(state.step), float(metrics["loss"]))
  train_loss = float(metrics["loss"])
  result = _evaluate(experiment, cache["eval"], state.params, state.batch_stats, evaluated)
  sizes = jax.tree.leaves(jax.tree.map(lambda p: p.size, state.params))
  trained = jax.tree.leaves(jax.tree.map(lambda p, label: p.size * (label == "train"),
                                         state.params,
                                         finetune.parameter_labels(config, state.params)))
  return experiment, dict(result, final_train_loss=train_loss, trained_params=sum(trained),
                          total_params=sum(sizes), seconds=round(time.time() - start, 1))


def _pooled(model, variables, sequences, batch_size=128):
  """``{pooling: [examples, features]}`` of the last hidden states, and per layer."""
  import jax
  import jax.numpy as jnp
  import numpy as np

  @jax.jit
  def features(x):
    ids, mask = model.apply(variables, x, method=model.tokens)
    _, hidden = model.apply(variables, ids, mask, method=model.encode)
    inner = hidden[-1][:, 1:-1]
    return {"cls": hidden[-1][:, 0], "mean": inner.mean(1), "max": inner.max(1),
            "mean_max": jnp.concatenate([inner.mean(1), inner.max(1)], -1),
            "mean_layer_1": hidden[1][:, 1:-1].mean(1),
            "embedding_mean": hidden[0][:, 1:-1].mean(1)}

  parts = [jax.device_get(features(jnp.asarray(sequences[i:i + batch_size])))
           for i in range(0, len(sequences), batch_size)]
  return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}


def _diagnose(examples: int, split: str) -> None:
  import jax
  import numpy as np
  from sklearn.metrics import roc_auc_score
  from genereg_jax.train import finetune
  from genereg_jax.train import trainer
  config = _config("full", examples)
  train, evaluated = _arrays(config, config.train_split), _arrays(config, split)
  experiment = trainer.Experiment(config)
  example = {k: v[0] for k, v in train.items()}
  random = experiment.init_fn(example)(jax.random.PRNGKey(config.seed)).params
  pretrained = experiment.create_state(example)[0].params
  model = experiment.model
  labels = train["label"]
  both = [j for j in range(labels.shape[1]) if labels[:, j].min() < labels[:, j].max()]
  for name, params in (("random", random), ("pretrained", pretrained)):
    fit = _pooled(model, {"params": params}, train["sequence"])
    test = _pooled(model, {"params": params}, evaluated["sequence"])
    for pool in fit:
      kernel, bias = finetune.linear_probe_head(fit[pool], labels)  # LP-FT's probe.
      scores = test[pool] @ kernel + bias
      auroc = np.mean([roc_auc_score(evaluated["label"][:, j], scores[:, j]) for j in both])
      print(json.dumps(dict(init=name, pooling=pool, n=examples,
                            std_over_examples=round(float(fit[pool].std(0).mean()), 4),
                            mean_abs=round(float(np.abs(fit[pool]).mean()), 4),
                            probe_auroc=round(float(auroc), 4))), flush=True)


def _mlm_motifs(base: str, windows: int = 512) -> None:
  """Masked-token accuracy / NLL of the pretraining run ``base`` on planted-motif vs
  background nucleotides of fresh grammar-genome sequence (see ``--mlm_motifs``)."""
  import jax
  import jax.numpy as jnp
  import numpy as np
  import optax
  from data_builders.synthetic_motifs import genome
  from genereg_jax.data import tokenizers
  from genereg_jax.tasks import mlm
  from genereg_jax.train import finetune
  from genereg_jax.train import trainer
  from genereg_jax.train import workdir as workdir_lib
  config = workdir_lib.load_saved_config(base)
  data = config.dataset
  k, tokens = data.k, data.max_tokens
  model = trainer.build_model(config)
  params = finetune.load_base(base)["params"]
  width = tokens - 2 + k - 1
  bases, in_motif = genome.elements(10_000, windows * width)  # No genome has chr10001.
  tokenizer = tokenizers.KmerTokenizer(k)
  rng = np.random.default_rng(0)
  inputs, labels = [], []
  for w in range(windows):
    ids = tokenizer.encode("".join("ACGT"[b] for b in bases[w * width:(w + 1) * width]))
    maskable = mlm.maskable_positions(ids, (tokenizer.cls_id, tokenizer.sep_id))
    x, y = mlm.mask_kmer_spans(ids, rng, k=k, maskable=maskable, mask_id=tokenizer.mask_id,
                               random_ids=(0, tokenizer.vocab_size),
                               mlm_probability=data.mlm_probability,
                               span=data.get("mask_span"))
    inputs.append(x)
    labels.append(y)
  inputs, labels = np.stack(inputs), np.stack(labels)
  logits = jax.jit(lambda x: model.apply({"params": params}, x, jnp.ones_like(x))["logits"])
  nll, correct = [], []
  for i in range(0, windows, 128):
    out = np.asarray(logits(inputs[i:i + 128]), np.float32)
    target = np.where(labels[i:i + 128] >= 0, labels[i:i + 128], 0)
    nll.append(np.asarray(optax.softmax_cross_entropy_with_integer_labels(out, target)))
    correct.append(out.argmax(-1) == target)
  nll, correct = np.concatenate(nll), np.concatenate(correct)
  groups = np.stack([mlm.hidden_in_region(labels[w], k, in_motif[w * width:(w + 1) * width])
                     for w in range(windows)])
  for name, value in (("motif", 1), ("background", 0)):
    chosen = groups == value
    print(json.dumps(dict(base=base, nucleotides=name, masked_tokens=int(chosen.sum()),
                          masked_nll=round(float(nll[chosen].mean()), 4),
                          accuracy=round(float(correct[chosen].mean()), 4))), flush=True)


def main(argv):
  del argv
  if FLAGS.mlm_motifs:
    _mlm_motifs(FLAGS.base)
    return
  if FLAGS.diagnose:
    for n in FLAGS.examples:
      _diagnose(int(n), FLAGS.split)
    return
  rows, compiled, evaluated = [], {}, None
  for mode in FLAGS.modes:
    for n in map(int, FLAGS.examples):
      config = _config(mode, n)
      data = _arrays(config, config.train_split)
      if evaluated is None:
        evaluated = _arrays(config, FLAGS.split)
      # Modes that differ only in the initialisation (scratch, full) share one compile.
      key = json.dumps([config.model.to_dict(), config.optimizer.to_dict(),
                        config.adapters.to_dict(), config.num_train_steps], default=str)
      experiment, cache = compiled.get(key, (None, {}))
      for seed in map(int, FLAGS.seeds):
        config.seed = seed
        experiment, result = _train(config, data, evaluated, experiment, cache)
        compiled[key] = (experiment, cache)
        row = dict(mode=mode, n=n, seed=seed, lpft=FLAGS.lpft, **result)
        rows.append(row)
        print(json.dumps(row), flush=True)
  print(f"\n| mode | n | {FLAGS.split} AUROC per seed | mean ± half range |\n|---|---|---|---|")
  for mode in FLAGS.modes:
    for n in map(int, FLAGS.examples):
      values = [r["auroc"] for r in rows if r["mode"] == mode and r["n"] == n]
      print(f"| {mode} | {n} | {' / '.join(f'{v:.3f}' for v in values)} | "
            f"{sum(values) / len(values):.3f} ± {(max(values) - min(values)) / 2:.3f} |")


if __name__ == "__main__":
  common.run(main)
