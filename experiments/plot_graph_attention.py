r"""GAT attention of one gene over its contact edges, from a trained GraphReg workdir.

  python -m experiments.train --config=graphreg_epi --workdir=/tmp/graphreg_epi
  python -m experiments.plot_graph_attention --workdir=/tmp/graphreg_epi --split=test \
      --region=0 --out=attention.png [--gene=NODE] [--layer=-1] [--checkpoint=best]

Runs the checkpoint on region ``--region`` of ``--split`` with
``return_attention=True`` and draws ``genereg_jax.plots_graph.gene_attention`` for node
``--gene`` (default: the contact-dependent TSS node with the most CAGE when the dataset
marks them, else the TSS node with the most CAGE) from GAT layer ``--layer``. On
``synthetic_graphs`` data the true loop partners of the gene (``loops``) are marked.
Prints the gene, its CAGE (observed, predicted) and the attention per source node.
"""

from absl import flags

from experiments import common

FLAGS = flags.FLAGS


def define_flags() -> None:
  """The command's flags (defined by the entry point only, so importing it is inert)."""
  common.define_config_flags(config_required=False)
  flags.DEFINE_string("split", "test", "Dataset split holding the region.")
  flags.DEFINE_integer("region", 0, "Index of the region in the split.", lower_bound=0)
  flags.DEFINE_integer("gene", None, "Node of the gene (default: see above).")
  flags.DEFINE_integer("layer", -1, "Which GAT layer (Python index).")
  flags.DEFINE_enum("checkpoint", "best", ["latest", "best"], "Which checkpoint.")
  flags.DEFINE_string("out", None, "Figure path (.png or .svg).", required=True)


def pick_gene(example) -> int:
  """The contact-dependent TSS node with the most CAGE, else the TSS node with the most."""
  import numpy as np
  cage = np.asarray(example["cage"], float)
  for key in ("contact_dependent", "tss"):
    if key in example and np.asarray(example[key]).any():
      nodes = np.flatnonzero(np.asarray(example[key]) > 0)
      return int(nodes[np.argmax(cage[nodes])])
  return int(np.argmax(cage))


def main(argv):
  del argv
  import numpy as np
  from genereg_jax import plots_graph
  from genereg_jax.train import trainer
  config = common.config_or_saved()
  if config.model_name != "graphreg" or "edges" not in config.model_inputs:
    raise SystemExit(f"error: {FLAGS.workdir} holds {config.model_name!r} without a graph "
                     "head; attention needs Epi-/Seq-GraphReg")
  experiment, state, _ = trainer.restore_for_eval(config, FLAGS.workdir, FLAGS.checkpoint)
  source = trainer.load_split(config, FLAGS.split)
  if FLAGS.region >= len(source):
    raise SystemExit(f"error: --region={FLAGS.region} but {FLAGS.split} has {len(source)}")
  example = source[FLAGS.region]
  inputs = {k: np.asarray(example[k])[None] for k in config.model_inputs}
  variables = {"params": state.params, **({"batch_stats": state.batch_stats}
                                          if state.batch_stats else {})}
  cage, attention = experiment.model.apply(variables, **inputs, train=False,
                                           return_attention=True)
  num_nodes = int(np.shape(example["cage"])[0])
  gene = pick_gene(example) if FLAGS.gene is None else FLAGS.gene
  marks = []
  if "loops" in example:  # synthetic_graphs: the gene's true loop partners.
    loops = np.asarray(example["loops"]).reshape(-1, 2)
    marks = sorted({int(b if a == gene else a) for a, b in loops if gene in (a, b)})
  metadata = getattr(source, "metadata", {}) or {}
  sources, weights = plots_graph.gene_attention(
      FLAGS.out, np.asarray(attention[FLAGS.layer][0]), example["edges"], example["edge_mask"],
      gene, num_nodes=num_nodes, node_size=int(metadata.get("node_size", 5000)), marks=marks,
      title=f"{FLAGS.split} region {FLAGS.region}, node {gene}: GAT layer {FLAGS.layer}")
  print(f"gene node {gene}: CAGE observed {float(example['cage'][gene]):.1f}, predicted "
        f"{float(cage[0, gene]):.1f}; true loop partners {marks}")
  for node, weight in zip(sources, weights):
    print(f"  node {node:4d} ({(node - gene) * 5:+5d} kb)  attention {weight:.3f}")
  print(f"wrote {FLAGS.out}")


if __name__ == "__main__":
  define_flags()
  common.run(main)
