"""``weather_yield``: yield trials + daily weather per environment (Shook et al. 2021),
with an embedded synthetic set of known weather x genotype truth (DESIGN.md, decision 8).

Importing this package registers the ``WeatherYield`` TFDS builder.
"""

from data_builders.weather_yield.weather_yield import (
    VARIABLES,
    WeatherYield,
    WeatherYieldConfig,
    expected_yield,
    read_trials,
    read_weather,
    split_of_env,
    write_synthetic,
)

__all__ = ["VARIABLES", "WeatherYield", "WeatherYieldConfig", "expected_yield", "read_trials",
           "read_weather", "split_of_env", "write_synthetic"]
