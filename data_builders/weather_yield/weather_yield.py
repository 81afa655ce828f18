r"""Yield trials with each environment's daily weather, for Shook et al. (2021).

Files (``manual`` reads them from ``manual_dir``):

* ``weather.csv``: one row per environment and day, comma-separated with a header:
  ``env,day,<variable>,...`` (``day`` 1..days, every environment the same days and
  variables; Shook et al.: 214 days x 7 variables).
* ``trials.tsv``: one row per performance record, tab-separated with a header:
  ``env  genotype  cluster  maturity_group  yield`` (``cluster`` an integer 0..K-1 from
  clustering the genotypes, e.g. by pedigree as the paper did; ``maturity_group`` a
  number).

Environments are split 80/10/10 by a hash of their name, so valid/test weather is never
seen in training (prediction in new environments). Each weather variable is
standardised with the training environments' mean and SD; yield with the training
records'.

``synthetic`` / ``tiny`` write both files (under the build's download directory) from a
SYNTHETIC truth and read them back the same way: seasonal curves + AR(1) anomalies per
environment for temperature, precipitation, radiation ... (7 variables); the expected
yield is a cluster effect, minus heat stress (degrees above 30 in the maximum
temperature) and drought (missing rain) during the genotype's flowering window, which
starts at ``40 + 12 x maturity_group`` days and whose sensitivity depends on the cluster:
a weather x genotype interaction that only a model reading the season *per genotype*
can learn. Observed yield = expected + noise; the expected yield is kept
(``expected_yield``) as the truth. Environments ``E000..`` train, then valid, then test.

Records: ``weather float32[days, variables]``, ``genotype_cluster int32``,
``maturity_group float32``, ``phenotype float32[1]`` (yield), ``expected_yield float32[1]``
(NaN for real data), ``env``, ``genotype``.
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import math
import os

import numpy as np
import tensorflow_datasets as tfds

from genereg_jax.files import InputFormatError

SPLITS = ("train", "valid", "test")
VARIABLES = ("avg_dni", "precipitation", "relative_humidity", "max_dni", "max_temp",
             "min_temp", "avg_temp")


def split_of_env(env: str) -> str:
  bucket = int(hashlib.sha1(env.encode()).hexdigest(), 16) % 10
  return "train" if bucket < 8 else "valid" if bucket == 8 else "test"


@dataclasses.dataclass(eq=False)
class WeatherYieldConfig(tfds.core.BuilderConfig):
  """Source and sizes of a ``weather_yield`` build.

  Attributes:
    synthetic: generate the files (True) or read ``manual_dir``.
    days: days per season (Shook et al.: 214).
    num_clusters: genotype clusters (20).
    num_envs: synthetic environments (train, valid, test).
    trials_per_env: synthetic records per environment.
    noise_sd: synthetic yield noise.
    seed: synthetic RNG seed.
  """
  synthetic: bool = False
  days: int = 214
  num_clusters: int = 20
  num_envs: tuple[int, int, int] = (160, 20, 20)
  trials_per_env: int = 40
  noise_sd: float = 0.3
  seed: int = 0


def synthetic_weather(rng: np.random.Generator, days: int) -> np.ndarray:
  """``[days, 7]`` in ``VARIABLES`` order: seasonal means + AR(1) anomalies."""
  t = np.arange(days) / days
  anomaly = np.zeros((days, 3))
  for d in range(1, days):
    anomaly[d] = 0.9 * anomaly[d - 1] + rng.normal(size=3) * [1.2, 0.4, 0.5]
  level = rng.normal(size=3) * [2.0, 0.6, 0.6]  # Hot/cool, wet/dry, bright/dull seasons.
  temp = 24 + 6 * np.sin(np.pi * t) + level[0] + anomaly[:, 0] * 2
  rain = np.maximum(0.0, 3 + level[1] * 2 + anomaly[:, 1] * 3 + rng.normal(size=days))
  radiation = 5 + 2 * np.sin(np.pi * t) + level[2] + anomaly[:, 2]
  return np.stack([radiation, rain, 60 + 5 * rain - 0.5 * temp, radiation + 2,
                   temp + 5, temp - 7, temp], axis=1)


def expected_yield(weather: np.ndarray, cluster: np.ndarray, maturity: np.ndarray,
                   cluster_effect: np.ndarray, heat_sensitivity: np.ndarray) -> np.ndarray:
  """The synthetic truth (module docstring) for records sharing one season."""
  days = np.arange(weather.shape[0])
  start = 40 + 12 * maturity[:, None]
  window = (days[None, :] >= start) & (days[None, :] < start + 30)  # Flowering, 30 d.
  heat = np.maximum(weather[:, 4] - 30.0, 0.0)
  drought = np.maximum(3.0 - weather[:, 1], 0.0)
  stress = (window * heat[None]).sum(1) / 30 + 0.5 * (window * drought[None]).sum(1) / 30
  return 3.0 + cluster_effect[cluster] + 0.1 * maturity - heat_sensitivity[cluster] * stress


def write_synthetic(directory: str, config: WeatherYieldConfig) -> dict[tuple[str, str], float]:
  """``weather.csv`` + ``trials.tsv``; returns ``{(env, genotype): expected yield}``."""
  os.makedirs(directory, exist_ok=True)
  rng = np.random.default_rng(config.seed)
  cluster_effect = rng.normal(size=config.num_clusters) * 0.3
  heat_sensitivity = rng.uniform(0.2, 2.0, config.num_clusters)
  truth = {}
  with open(os.path.join(directory, "weather.csv"), "w") as w, \
       open(os.path.join(directory, "trials.tsv"), "w") as trials:
    w.write("env,day," + ",".join(VARIABLES) + "\n")
    trials.write("env\tgenotype\tcluster\tmaturity_group\tyield\n")
    for e in range(sum(config.num_envs)):
      env = f"E{e:03d}"
      weather = synthetic_weather(rng, config.days)
      w.writelines(f"{env},{d + 1}," + ",".join(f"{v:.4f}" for v in row) + "\n"
                   for d, row in enumerate(weather))
      cluster = rng.integers(0, config.num_clusters, config.trials_per_env)
      maturity = np.round(rng.uniform(0.0, 5.0, config.trials_per_env), 1)
      expected = expected_yield(weather, cluster, maturity, cluster_effect, heat_sensitivity)
      observed = expected + rng.normal(size=len(expected)) * config.noise_sd
      for i in range(config.trials_per_env):
        genotype = f"G{cluster[i]:02d}_{i:03d}"
        truth[(env, genotype)] = float(expected[i])
        trials.write(f"{env}\t{genotype}\t{cluster[i]}\t{maturity[i]}\t{observed[i]:.5f}\n")
  return truth


def read_weather(path: str) -> tuple[list[str], dict[str, np.ndarray]]:
  """``(variables, {env: float32[days, variables]})`` of a ``weather.csv``."""
  seasons: dict[str, dict[int, list[float]]] = {}
  with open(path, newline="") as f:
    reader = csv.reader(f)
    header = next(reader, None)
    if not header or header[:2] != ["env", "day"] or len(header) < 3:
      raise InputFormatError(path, 1, "header must be env,day,<variable>,...")
    for number, row in enumerate(reader, start=2):
      if not row:
        continue
      if len(row) != len(header):
        raise InputFormatError(path, number, f"{len(row)} fields; the header has {len(header)}")
      try:
        day, values = int(row[1]), [float(v) for v in row[2:]]
      except ValueError:
        raise InputFormatError(path, number, "day must be an integer and the variables "
                               "numbers") from None
      seasons.setdefault(row[0], {})[day] = values
  out, days = {}, None
  for env, by_day in seasons.items():
    if days is None:
      days = sorted(by_day)
    if sorted(by_day) != days:
      raise InputFormatError(path, None, f"environment {env} has days {min(by_day)}-"
                             f"{max(by_day)} ({len(by_day)}); every environment needs the "
                             f"same {len(days)} days")
    out[env] = np.asarray([by_day[d] for d in days], np.float32)
  return header[2:], out


def read_trials(path: str) -> list[tuple[str, str, int, float, float]]:
  """``(env, genotype, cluster, maturity_group, yield)`` rows of a ``trials.tsv``."""
  rows = []
  with open(path) as f:
    header = f.readline().rstrip("\n").split("\t")
    expected = ["env", "genotype", "cluster", "maturity_group", "yield"]
    if header != expected:
      raise InputFormatError(path, 1, f"header must be {' '.join(expected)} (tab-separated)")
    for number, line in enumerate(f, start=2):
      fields = line.rstrip("\n").split("\t")
      if not line.strip():
        continue
      try:
        rows.append((fields[0], fields[1], int(fields[2]), float(fields[3]),
                     float(fields[4]) if fields[4] not in ("", "NA") else math.nan))
      except (ValueError, IndexError):
        raise InputFormatError(path, number, "expected env, genotype, integer cluster, "
                               "numeric maturity_group and yield") from None
  return rows


class WeatherYield(tfds.core.GeneratorBasedBuilder):
  """Yield records with the environment's daily weather (Shook et al. 2021)."""

  name = "weather_yield"
  VERSION = tfds.core.Version("1.0.0")
  RELEASE_NOTES = {"1.0.0": "First release."}
  MANUAL_DOWNLOAD_INSTRUCTIONS = __doc__
  BUILDER_CONFIGS = [
      WeatherYieldConfig(name="synthetic", synthetic=True,
                         description="200 seasons x 40 records, 214 days, 20 clusters."),
      WeatherYieldConfig(name="tiny", synthetic=True, days=120, num_clusters=6,
                         num_envs=(40, 8, 8), trials_per_env=20,
                         description="synthetic, small, for tests."),
      WeatherYieldConfig(name="manual", description="weather.csv + trials.tsv (214 days)."),
  ]
  DEFAULT_BUILDER_CONFIG_NAME = "synthetic"

  def _info(self) -> tfds.core.DatasetInfo:
    config = self.builder_config
    return tfds.core.DatasetInfo(
        builder=self, description=__doc__, disable_shuffling=True,
        features=tfds.features.FeaturesDict({
            "weather": tfds.features.Tensor(shape=(config.days, len(VARIABLES)
                                                   if config.synthetic else None),
                                            dtype=np.float32),
            "genotype_cluster": tfds.features.Scalar(dtype=np.int32),
            "maturity_group": tfds.features.Scalar(dtype=np.float32),
            "phenotype": tfds.features.Tensor(shape=(1,), dtype=np.float32),
            "expected_yield": tfds.features.Tensor(shape=(1,), dtype=np.float32),
            "env": tfds.features.Text(), "genotype": tfds.features.Text()}),
        metadata=tfds.core.MetadataDict(num_clusters=config.num_clusters, days=config.days,
                                        trait_names=["yield"], synthetic=config.synthetic))

  def _split_generators(self, dl_manager):
    config = self.builder_config
    truth = {}
    if config.synthetic:
      directory = os.path.join(os.fspath(dl_manager.download_dir),
                               f"weather_yield_{config.name}_{config.seed}")
      truth = write_synthetic(directory, config)
      envs = [f"E{e:03d}" for e in range(sum(config.num_envs))]
      env_split = dict(zip(envs, np.repeat(SPLITS, config.num_envs)))
    else:
      directory = os.fspath(dl_manager.manual_dir)
    _, weather = read_weather(os.path.join(directory, "weather.csv"))
    trials = read_trials(os.path.join(directory, "trials.tsv"))
    if not config.synthetic:
      env_split = {env: split_of_env(env) for env in weather}
    first = next(iter(weather.values()))
    if first.shape[0] != config.days:
      raise ValueError(f"weather_yield/{config.name}: seasons of {first.shape[0]} days; the "
                       f"config expects days={config.days}")
    train_envs = [e for e in weather if env_split[e] == "train"]
    stacked = np.stack([weather[e] for e in train_envs])
    w_mean, w_sd = stacked.mean(axis=(0, 1)), stacked.std(axis=(0, 1)) + 1e-6
    train_yield = np.asarray([y for env, _, _, _, y in trials
                              if env_split.get(env) == "train" and not math.isnan(y)])
    y_mean, y_sd = train_yield.mean(), train_yield.std() or 1.0
    rows = {s: [] for s in SPLITS}
    for env, genotype, cluster, maturity, y in trials:
      if env not in weather:
        raise InputFormatError(os.path.join(directory, "trials.tsv"), None,
                               f"environment {env!r} has no weather in weather.csv")
      if math.isnan(y):
        continue
      if not 0 <= cluster < config.num_clusters:
        raise ValueError(f"cluster {cluster} of {genotype} is outside 0..{config.num_clusters - 1}")
      expected = (truth[(env, genotype)] - y_mean) / y_sd if truth else np.nan
      rows[env_split[env]].append((f"{env}_{genotype}", {
          "weather": ((weather[env] - w_mean) / w_sd).astype(np.float32),
          "genotype_cluster": np.int32(cluster), "maturity_group": np.float32(maturity),
          "phenotype": np.float32([(y - y_mean) / y_sd]),
          "expected_yield": np.float32([expected]), "env": env, "genotype": genotype}))
    return {s: self._generate_examples(r) for s, r in rows.items() if r}

  def _generate_examples(self, rows):
    yield from rows
