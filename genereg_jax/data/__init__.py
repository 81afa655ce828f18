"""Input side: sequence encodings and grain pipelines over TFDS data sources."""
