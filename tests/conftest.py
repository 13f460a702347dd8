"""Test-wide settings: every optimized graph is verified after every pass."""
import os

os.environ.setdefault("GRAPHC_VERIFY", "1")
