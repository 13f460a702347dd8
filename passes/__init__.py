"""Compiler passes (installed as ``graphc.passes``); each pass is one module with ``run``."""
