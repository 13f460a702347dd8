"""``gc.compat.v1`` is graphc itself, so ``import graphc.compat.v1 as tf``-style code reads."""
import graphc as v1  # noqa: F401
