"""Test-wide settings: every optimized graph is verified after every pass."""
import os

import pytest

import graphc as gc

os.environ.setdefault("GRAPHC_VERIFY", "1")

from hypothesis import settings  # noqa: E402

# CI explores a fixed set of examples (reproducible); local runs explore new ones each time.
settings.register_profile("ci", derandomize=True)
if os.environ.get("CI"):
    settings.load_profile("ci")


@pytest.fixture
def graph():
    """A fresh graph, installed as the default graph for the test."""
    g = gc.Graph()
    with g.as_default():
        yield g
