"""``synthetic_expression``: 5' UTRs, APA reporters, promoters and topic regions with
planted grammars and their oracles (Cuperus, APARENT, Xpresso, DeepMEL). Importing this
package registers the ``SyntheticExpression`` TFDS builder."""

from data_builders.synthetic_expression.synthetic_expression import (
    SyntheticExpression,
    SyntheticExpressionConfig,
    isoform_oracle,
    promoter_oracle,
    topic_oracle,
    topic_sets,
    utr_oracle,
)

__all__ = ["SyntheticExpression", "SyntheticExpressionConfig", "isoform_oracle",
           "promoter_oracle", "topic_oracle", "topic_sets", "utr_oracle"]
