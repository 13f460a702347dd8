"""Test-wide settings: every optimized graph is verified after every pass, compiled fused
kernels go to a disk cache of this test process's own, and hypothesis runs are
reproducible."""
import atexit
import os
import shutil
import tempfile

import pytest

os.environ.setdefault("GRAPHC_VERIFY", "1")
# The kernel cache keys kernels by their generated source, not by the engine code they call:
# kernels cached by an earlier version of that code would hide its changes from the tests,
# and the tests' kernels would leak into the user's cache.
if "GRAPHC_CACHE_DIR" not in os.environ:
    os.environ["GRAPHC_CACHE_DIR"] = tempfile.mkdtemp(prefix="graphc-test-kernels-")
    atexit.register(shutil.rmtree, os.environ["GRAPHC_CACHE_DIR"], ignore_errors=True)

import graphc as gc  # noqa: E402

from hypothesis import HealthCheck, settings  # noqa: E402

# Every run explores the same examples, and no example database carries failures from one
# run into the next: a failure in CI reproduces on any machine from the test alone.
# GRAPHC_HYPOTHESIS=explore draws new examples instead (to look for new failures locally).
# Hypothesis's deadline and too_slow health check are timing assertions: on a loaded 2-core
# machine they fail tests whose results are right, so neither profile has them.
_UNTIMED = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("reproducible", derandomize=True, database=None, **_UNTIMED)
settings.register_profile("explore", database=None, **_UNTIMED)
settings.load_profile("explore" if os.environ.get("GRAPHC_HYPOTHESIS") == "explore"
                      else "reproducible")


@pytest.fixture
def graph():
    """A fresh graph, installed as the default graph for the test."""
    g = gc.Graph()
    with g.as_default():
        yield g


@pytest.fixture
def without_batch_regions(monkeypatch):
    """Plans whose steps are the ops themselves, for tests of what a plan decides for each
    op's step (its arena buffers, in-place writes): with several threads, runs of ops that
    split along the batch become one batch region step (runtime/batch_regions.py, tested in
    tests/test_batch_regions.py), whose pieces plan their own."""
    from graphc.runtime import plan
    monkeypatch.setattr(plan, "form_regions", lambda steps, *args, **kwargs: steps)
