"""``deepmel_topics``: a cisTopic region-topic table + genome or region FASTA -> 500-bp
regions with binarised topics (DeepMEL). Importing this package registers the
``DeepMELTopics`` TFDS builder."""

from data_builders.deepmel_topics.deepmel_topics import (
    DeepMELTopics,
    DeepMELTopicsConfig,
    read_topics,
)

__all__ = ["DeepMELTopics", "DeepMELTopicsConfig", "read_topics"]
