"""Hypothesis profiles of the fuzzing suite.

``ci`` (the default) is bounded and derandomized, so the suite takes seconds and a CI
failure reproduces; ``long`` explores far more (``pytest tests/fuzz
--hypothesis-profile=long``, see BUILD.md). Neither keeps an example database in the
repository.
"""

from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci", max_examples=30, deadline=None, derandomize=True, database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile(
    "long", max_examples=3000, deadline=None, database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.load_profile("ci")
