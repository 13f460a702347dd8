"""ONNX interop: ``import_model`` (ONNX -> graphc graph) and, in ``graphc.onnx.export``,
graphc graphs written as ONNX models. Needs the optional extra ``graphc[onnx]``.

Example:
    >>> graph, inputs, outputs = graphc.onnx.import_model("model.onnx")
"""
from . import dynamic_ops  # noqa: F401 - registers the run-time-operand ops
from .converters import CONVERTERS, UnsupportedOpError  # noqa: F401
from .importer import import_model  # noqa: F401
from .safety import UnsafeModelError  # noqa: F401
from .exporter import ExportError, export  # noqa: F401,E402
