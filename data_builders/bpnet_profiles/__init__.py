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
