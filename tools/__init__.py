"""Command-line tools, the demo and benchmarks (installed as ``graphc.tools``)."""
