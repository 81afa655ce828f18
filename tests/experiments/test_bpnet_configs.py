"""``bpnet`` and ``bpnet_mesc`` configs: geometry matches their data; short runs train."""

import json
import os

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from data_builders import synthetic_profiles as sp
from experiments import configs
from genereg_jax.train import trainer


def _out_shapes(config, input_length):
  model = trainer.build_model(config)
  sequence = jnp.zeros((2, input_length, 4))
  control = jnp.zeros((2, input_length, config.model.n_control_tracks))
  return jax.eval_shape(lambda: model.init_with_output(
      jax.random.key(0), sequence, control)[0])


@pytest.mark.parametrize("name, builder_config", [
    ("bpnet", "default"), ("bpnet:tiny", "tiny")])
def test_synthetic_configs_match_their_dataset(name, builder_config):
  config = configs.get_config(name)
  data = {c.name: c for c in sp.SyntheticProfiles.BUILDER_CONFIGS}[builder_config]
  assert config.dataset.name == f"synthetic_profiles/{builder_config}"
  out = _out_shapes(config, data.input_length)
  assert out["profile_logits"].shape == (2, data.output_length, 8)
  assert out["log_counts"].shape == (2, 8)
  task = trainer.build_task(config)
  assert task.strand_pair == list(sp.STRAND_PAIR)
  assert config.augment.max_shift == 0  # A sequence-only shift misaligns profiles.


@pytest.mark.parametrize("name, input_length, output_length", [
    ("bpnet_mesc", 1000, 1000), ("bpnet_mesc:lite", 2114, 1000)])
def test_mesc_configs_have_the_published_geometry(name, input_length,
                                                  output_length):
  config = configs.get_config(name)
  out = _out_shapes(config, input_length)
  assert out["profile_logits"].shape == (2, output_length, 8)
  assert out["log_counts"].shape == (2, 8)
  assert trainer.build_task(config).count_weight == 10.0
  assert not config.dataset.build_if_missing


def test_unknown_variant_lists_the_valid_ones():
  with pytest.raises(ValueError, match="synthetic, tiny"):
    configs.get_config("bpnet:huge")


def _build_small_synthetic(data_dir):
  config = sp.SyntheticProfilesConfig(
      name="e2e", input_length=400, output_length=200, num_train=256,
      num_valid=40, num_test=24, seed=5)
  sp.SyntheticProfiles(config=config, data_dir=data_dir,
                       file_format="array_record").download_and_prepare()


def test_tiny_config_trains_end_to_end(tmp_path):
  data_dir = str(tmp_path / "tfds")
  _build_small_synthetic(data_dir)
  config = configs.get_config("bpnet:tiny")
  # A build that is not in BUILDER_CONFIGS is read back from its files.
  config.dataset.update(name="synthetic_profiles/e2e", data_dir=data_dir,
                        build_if_missing=False)
  config.batch_size = 32
  config.eval_batch_size = 16  # 40 and 24 examples: padded, masked batches.
  config.num_train_steps = 60
  config.log_every_steps = 10
  config.eval_every_steps = 30
  config.checkpoint_every_steps = 30
  workdir = str(tmp_path / "run")
  final = trainer.train_and_evaluate(config, workdir)
  with open(os.path.join(workdir, "metrics.jsonl")) as f:
    rows = [json.loads(line) for line in f]
  train = [r["loss"] for r in rows if r["split"] == "train"]
  assert np.mean(train[-2:]) < 0.9 * train[0], train
  test = final["test"]
  for key in ("count_pearson", "count_spearman", "profile_jsd", "profile_nll",
              "loss"):
    assert np.isfinite(test[key]), (key, test)
  assert test["profile_jsd_per_track"].shape == (8,)
  # The profile is better than uniform within 60 steps (uniform JSD ~0.75).
  assert test["profile_jsd"] < 0.72, test
  # The checkpoint reproduces the final metrics.
  again = trainer.evaluate(config, workdir, "test")
  np.testing.assert_allclose(again["profile_nll"], test["profile_nll"],
                             rtol=1e-5)


def _write_genome(root, rng):
  pyBigWig = pytest.importorskip("pyBigWig")
  sizes = {"chr1": 4000, "chr2": 2500, "chr3": 2500}
  with open(root / "genome.fa", "w") as f:
    for chrom, size in sizes.items():
      f.write(f">{chrom}\n" + "".join(rng.choice(list("ACGT"), size)) + "\n")
  bigwigs = []
  for i in range(10):  # 4 tasks x 2 strands, control x 2.
    path = str(root / f"track{i}.bw")
    bw = pyBigWig.open(path, "w")
    bw.addHeader(list(sizes.items()))
    for chrom, size in sizes.items():
      bw.addEntries(chrom, 0, values=rng.poisson(0.5, size).astype(float).tolist(),
                    span=1, step=1)
    bw.close()
    bigwigs.append(path)
  summits = [("chr1", s) for s in range(600, 3500, 300)] + [
      ("chr2", 800), ("chr2", 1600), ("chr3", 900), ("chr3", 1700)]
  (root / "peaks.bed").write_text(
      "".join(f"{c}\t{s}\t{s + 1}\n" for c, s in summits))
  return bigwigs


def test_mesc_config_trains_on_a_bpnet_profiles_build(tmp_path):
  pytest.importorskip("pyfaidx")
  from data_builders import bpnet_profiles as bp
  bigwigs = _write_genome(tmp_path, np.random.default_rng(0))
  tasks = tuple(bp.TrackSet(name, (bigwigs[2 * i], bigwigs[2 * i + 1]))
                for i, name in enumerate(("Oct4", "Sox2", "Nanog", "Klf4")))
  data_dir = str(tmp_path / "tfds")
  bp.BpnetProfiles(
      config=bp.BpnetProfilesConfig(
          name="mesc", fasta=str(tmp_path / "genome.fa"),
          peaks=(str(tmp_path / "peaks.bed"),), tasks=tasks,
          control=tuple(bigwigs[8:]), input_length=400, output_length=400,
          valid_chroms=("chr2",), test_chroms=("chr3",)),
      data_dir=data_dir, file_format="array_record").download_and_prepare()
  config = configs.get_config("bpnet_mesc")
  config.dataset.data_dir = data_dir
  config.model.update(n_filters=8, n_layers=3)  # Same heads, small trunk.
  config.batch_size = 4
  config.eval_batch_size = 4
  config.num_train_steps = 4
  config.log_every_steps = 2
  config.eval_every_steps = 0
  config.checkpoint_every_steps = 0
  final = trainer.train_and_evaluate(config, str(tmp_path / "run"))
  assert set(final) == {"valid", "test"}
  assert np.isfinite(final["test"]["loss"])
  assert final["test"]["count_pearson_per_output"].shape == (8,)
