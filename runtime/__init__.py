"""The Session runtime: execution plans over NumPy kernels (installed as ``graphc.runtime``)."""
from . import fused  # noqa: F401 - registers how fused nodes run with graphc.ops.fused
from . import subplans  # noqa: F401 - registers how control-flow subgraphs run
from .session import InteractiveSession, Session, get_default_session

__all__ = ["Session", "InteractiveSession", "get_default_session"]
