"""``bpnet_profiles``: FASTA + peaks + stranded bigWigs -> BPNet windows.

Importing this package registers the ``BpnetProfiles`` TFDS builder. A
dataset is made from arguments (``BpnetProfilesConfig``), usually with
``python -m data_builders.bpnet_profiles.make``; pyfaidx and pyBigWig are
needed to build, not to read a built dataset.
"""

from data_builders.bpnet_profiles.bpnet_profiles import (
    INPUT_KEYS,
    OUTPUT_KEYS,
    PEAK_FORMATS,
    SPLITS,
    BpnetProfiles,
    BpnetProfilesConfig,
    CentreCrop,
    Peak,
    RandomCrop,
    TrackSet,
    WindowReader,
    crop_example,
    crop_transforms,
    gc_fraction,
    gc_matched_background,
    parse_track_set,
    peak_windows,
    read_bigwig,
    read_peaks,
)

__all__ = [
    "INPUT_KEYS", "OUTPUT_KEYS", "PEAK_FORMATS", "SPLITS", "BpnetProfiles",
    "BpnetProfilesConfig", "CentreCrop", "Peak", "RandomCrop", "TrackSet",
    "WindowReader", "crop_example", "crop_transforms", "gc_fraction",
    "gc_matched_background", "parse_track_set", "peak_windows", "read_bigwig",
    "read_peaks",
]


def grain_transforms(metadata, train: bool) -> list:
  """The jitter crop for training / centre crop for evaluation (``max_jitter`` > 0)."""
  if not int(metadata.get("max_jitter", 0)):
    return []
  train_crop, eval_crop = crop_transforms(metadata)
  return [train_crop if train else eval_crop]

#: How to build a dataset of this builder (its configs come from user arguments).
BUILD_HINT = ("python -m data_builders.bpnet_profiles.make --name=<config> --fasta=genome.fa --peaks=peaks.narrowPeak --task=NAME:plus.bw,minus.bw [--control=plus.bw,minus.bw] --valid=... --test=... --data_dir=<data_dir>")
