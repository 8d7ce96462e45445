"""The benchmark's server settings: the product's, plus one minimal view as the throughput baseline (row 4)."""

from spyglass.settings import *  # noqa: F403

ROOT_URLCONF = "spyglass.bench.urls"
