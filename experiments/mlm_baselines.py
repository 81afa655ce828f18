r"""Reference cross-entropies for a masked-LM pretraining config (nats per masked token).

  python -m experiments.mlm_baselines --config=dnabert_pretrain:tiny
  python -m experiments.mlm_baselines --config=dnabert_pretrain:k=6 \
      --config.dataset.fasta=hg38.fa --train_records=20000

Draws the config's stream exactly as training does (same seed, same masks) and prints:

* ``unigram``: the cross-entropy of predicting every masked token of the evaluation
  split from unigram token frequencies counted over ``--train_records`` training
  records (``genereg_jax.tasks.mlm.unigram_baseline``) — the k-mer frequency baseline
  a model must beat;
* for k-mer (genome) streams, ``context``: the bound of a model that copies every
  nucleotide the unmasked neighbouring k-mers spell and guesses the rest from base
  frequencies (``mlm.context_baseline``); below it, the model has learned sequence
  structure (motifs) beyond the neighbours.

``--workdir`` is accepted but not used (the config flags are shared with training).
"""

from absl import flags

from experiments import common


def define_flags() -> None:
  """Flags, defined when run as a command (not on import, so that modules which
  share ``--config`` can be imported together)."""
  common.define_config_flags(workdir_required=False)
  flags.DEFINE_integer("train_records", 5000, "Training records counted for unigram frequencies.")
  flags.DEFINE_string("split", "valid", "Split whose masked tokens are scored.")


FLAGS = flags.FLAGS


def main(argv):
  del argv
  import json
  import numpy as np
  from genereg_jax.tasks import mlm
  from genereg_jax.train import trainer
  config = FLAGS.config
  train = trainer.load_split(config, "train")
  evaluated = trainer.load_split(config, FLAGS.split)

  def originals(example):
    labels = example["labels"]
    return np.where(labels != mlm.IGNORE_INDEX, labels, example["input_ids"])

  train_ids = np.concatenate([originals(train[i]).ravel() for i in range(FLAGS.train_records)])
  eval_examples = [evaluated[i] for i in range(len(evaluated))]
  labels = np.stack([e["labels"] for e in eval_examples])
  vocab = int(config.model.vocab_size)
  result = {"masked_tokens": int((labels != mlm.IGNORE_INDEX).sum()),
            "unigram": mlm.unigram_baseline(train_ids, labels, vocab)}
  if config.dataset.stream == "genome":
    k = int(config.dataset.k)
    bases = np.concatenate([np.frombuffer(train.window_at(np.random.default_rng([7, i]))[2]
                                          .upper().encode(), np.uint8)
                            for i in range(200)])
    counts = np.array([(bases == ord(b)).sum() for b in "ACGT"], np.float64)
    p = counts / counts.sum()
    entropy = float(-(p * np.log(p)).sum())
    result.update(base_entropy=entropy, context=mlm.context_baseline(labels, k, entropy))
  print(json.dumps(result, indent=2))


if __name__ == "__main__":
  define_flags()
  common.run(main)
