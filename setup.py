"""Package discovery for graphc (the metadata is in pyproject.toml).

passes/, runtime/ and tools/ live at the top of the repository but install only inside the
graphc namespace (graphc.passes, graphc.runtime, graphc.tools), so no generic top-level name
such as ``runtime`` is installed. setuptools' declarative ``packages.find`` cannot apply such
a folder-to-package mapping, so every package directory under the mapped folders is found
here: a new subpackage (e.g. ``runtime/fused/``) is installed without editing a list.
"""
from setuptools import find_packages, setup

PACKAGE_DIRS = {"graphc": "graphc", "graphc.passes": "passes", "graphc.runtime": "runtime",
                "graphc.tools": "tools"}

setup(package_dir=PACKAGE_DIRS,
      packages=[*PACKAGE_DIRS] + [f"{package}.{sub}" for package, folder in PACKAGE_DIRS.items()
                                  for sub in find_packages(folder)])
