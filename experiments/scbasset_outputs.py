r"""scBasset's outputs from a trained workdir: cell embeddings, denoised accessibility, TF
activity, and how well the embeddings cluster the known cell types.

  python -m experiments.scbasset_outputs --workdir=/tmp/scbasset_tiny \
      --output=/tmp/scbasset_tiny/cells.h5ad --motifs=GATA1,HNF4A,SPI1,CTCF
  python -m experiments.scbasset_outputs --workdir=W --h5ad=cells.h5ad \
      --output=cells_scbasset.h5ad --motifs=GATA1,CEBPB --denoised

Reads the AnnData the dataset was built from (``--h5ad`` for ``scatac_peaks/h5ad``; the
synthetic configs' simulation is rebuilt from its seed) and writes a copy to
``--output`` (through a temporary name, renamed when complete) with:

* ``obsm["X_scbasset"]``: the 32-d cell embeddings (the per-cell layer's kernel) and
  ``obs["scbasset_intercept"]`` (its bias, the cell's depth term);
* ``obs["tf_<MOTIF>"]``: per-cell TF activity by motif insertion (scBasset's
  ``motif_score``): the JASPAR consensus inserted at the centre of
  ``--num_backgrounds`` dinucleotide-shuffled peaks, z-scored across cells;
* with ``--denoised``, ``layers["scbasset_denoised"]``: depth-normalised accessibility
  of every peak in every cell (cells x peaks, dense: mind the size).

With known labels (the obs column ``--label_column``, or the first of ``cell_type``,
``celltype``, ``label``, ...), it prints the ARI and NMI of Leiden clusters of the
embeddings' neighbour graph (resolution searched to match the number of types;
`genereg_jax.cell_embeddings`) and writes them, with the settings, to
``<output>.json``.
"""

import os

from absl import flags
from absl import logging

from experiments import common

FLAGS = flags.FLAGS


def define_flags() -> None:
  """The command's flags (defined by the entry point only, so importing it is inert)."""
  common.define_config_flags(config_required=False)
  flags.DEFINE_enum("checkpoint", "latest", ["latest", "best"], "Which checkpoint.")
  flags.DEFINE_string("h5ad", None, "The AnnData the dataset was built from "
                      "(scatac_peaks/h5ad); synthetic datasets are rebuilt.")
  flags.DEFINE_string("output", None, "AnnData to write (default "
                      "<workdir>/scbasset_cells.h5ad); never the --h5ad itself.")
  flags.DEFINE_list("motifs", [], "JASPAR TF names to score (e.g. GATA1,CEBPB).")
  flags.DEFINE_integer("num_backgrounds", 100, "Shuffled peaks per motif.", lower_bound=1)
  flags.DEFINE_bool("denoised", False, "Write layers['scbasset_denoised'].")
  flags.DEFINE_string("label_column", None, "obs column of known cell types.")
  flags.DEFINE_integer("batch_size", 128, "Peaks per batch.", lower_bound=1)


def _peak_sequences(config):
  """``[peaks, L, 4]`` one-hot of every peak in AnnData order, from the built dataset."""
  import numpy as np
  from genereg_jax.train import trainer
  from data_builders.scatac_peaks import scatac_peaks
  sources = {s: trainer.load_split(config, s) for s in scatac_peaks.SPLITS}
  split = scatac_peaks.peak_split(sum(len(s) for s in sources.values()))
  sequences = None
  for index, name in enumerate(scatac_peaks.SPLITS):
    positions = np.flatnonzero(split == index)
    for row, position in enumerate(positions):
      one_hot = np.asarray(sources[name][row]["sequence"])
      if sequences is None:
        sequences = np.zeros((len(split), *one_hot.shape), np.uint8)
      sequences[position] = one_hot
  return sequences


def _anndata(config):
  from genereg_jax.data import singlecell
  from data_builders.scatac_peaks import scatac_peaks
  name = config.dataset.name.split("/")[-1]
  synthetic = {c.name: c for c in scatac_peaks.ScatacPeaks.BUILDER_CONFIGS
               if c.source == "synthetic"}
  if FLAGS.h5ad:
    return singlecell.read_h5ad(FLAGS.h5ad)
  if name in synthetic:
    return scatac_peaks.synthetic_anndata(synthetic[name])[0]
  raise SystemExit(f"error: {config.dataset.name} was built from a user file: pass --h5ad")


def _motif_one_hot(names):
  import numpy as np
  from genereg_jax.interpret import filter_motifs
  library = {m.name.upper(): m for m in filter_motifs.load_jaspar()}
  missing = [n for n in names if n.upper() not in library]
  if missing:
    raise SystemExit(f"error: no JASPAR CORE vertebrate motif named {missing}")
  return {n: np.eye(4, dtype=np.uint8)[library[n.upper()].probabilities.argmax(axis=1)]
          for n in names}


def main(argv):
  del argv
  import jax
  import numpy as np
  from genereg_jax import cell_embeddings
  from genereg_jax import files
  from genereg_jax.data import singlecell
  from genereg_jax.interpret import shuffle
  from genereg_jax.models import scbasset
  from genereg_jax.train import reporting
  from genereg_jax.train import trainer

  logging.set_verbosity(logging.INFO)
  reporting.quiet_library_logs()
  config = common.config_or_saved()
  if config.model_name != "scbasset":
    raise SystemExit(f"error: {FLAGS.workdir} trained {config.model_name}, not scbasset")
  output = FLAGS.output or os.path.join(FLAGS.workdir, "scbasset_cells.h5ad")
  files.check_output_path(output, FLAGS.h5ad)
  motifs = _motif_one_hot(FLAGS.motifs)
  adata = _anndata(config)
  experiment, state, _ = trainer.restore_for_eval(config, FLAGS.workdir, FLAGS.checkpoint)
  params = jax.device_get(state.params)
  embeddings = scbasset.cell_embeddings(params)
  if len(embeddings) != adata.n_obs:
    raise SystemExit(f"error: the model has {len(embeddings)} cells, the AnnData "
                     f"{adata.n_obs}")
  variables = {"params": state.params, "batch_stats": state.batch_stats}
  apply = jax.jit(lambda x: experiment.model.apply(variables, x, bottleneck_only=True))

  def bottleneck(sequences):
    return np.concatenate([np.asarray(apply(sequences[i:i + FLAGS.batch_size]))
                           for i in range(0, len(sequences), FLAGS.batch_size)])

  adata.obsm["X_scbasset"] = embeddings
  adata.obs["scbasset_intercept"] = scbasset.cell_intercepts(params)
  if motifs or FLAGS.denoised:
    sequences = _peak_sequences(config)
  if FLAGS.denoised:
    adata.layers["scbasset_denoised"] = scbasset.denoised_accessibility(
        bottleneck(sequences), params).T
  if motifs:
    rng = np.random.default_rng(0)
    chosen = rng.choice(len(sequences), min(FLAGS.num_backgrounds, len(sequences)),
                        replace=False)
    backgrounds = shuffle.dinucleotide_shuffle(sequences[chosen], n=1, seed=0)[:, 0]
    for name, one_hot in motifs.items():
      adata.obs[f"tf_{name}"] = scbasset.motif_activity(bottleneck, params, backgrounds,
                                                        one_hot)
  singlecell.write_h5ad(adata, output)
  summary = {"output": output, "num_cells": int(adata.n_obs), "motifs": list(motifs)}
  column = singlecell.label_column(adata, FLAGS.label_column)
  if column is not None:
    labels = adata.obs[column].astype(str).to_numpy()
    result = cell_embeddings.leiden_agreement(embeddings, labels)
    summary.update(label_column=column,
                   **{k: v for k, v in result.items() if k != "clusters"})
    print(f"Leiden on X_scbasset vs {column}: ARI {result['ari']:.3f}, NMI "
          f"{result['nmi']:.3f} ({result['num_clusters']} clusters, "
          f"{result['num_types']} types, resolution {result['resolution']:.3g})")
    if motifs:
      for name in motifs:
        means = adata.obs.groupby(column, observed=True)[f"tf_{name}"].mean()
        summary[f"tf_{name}_by_type"] = {str(k): float(v) for k, v in means.items()}
        print(f"tf_{name} mean by {column}: "
              + ", ".join(f"{k} {v:+.2f}" for k, v in means.items()))
  files.write_json(output + ".json", summary)
  print(f"wrote {output} (obsm['X_scbasset']"
        + (", layers['scbasset_denoised']" if FLAGS.denoised else "")
        + "".join(f", obs['tf_{n}']" for n in motifs) + f") and {output}.json")


if __name__ == "__main__":
  define_flags()
  common.run(main)
