#!/usr/bin/env bash
# Run the benchmark suite with the peer frameworks, installed in their own environment
# (.bench-venv), never as graphc dependencies:
#   bash tools/bench.sh            # writes bench/results.json and bench/results.md
#   bash tools/bench.sh --quick    # tiny sizes, a smoke run
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .bench-venv/bin/python ]; then
    python3 -m venv .bench-venv
fi
.bench-venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip >/dev/null
.bench-venv/bin/python -m pip install -q --disable-pip-version-check -e ".[fast]"
# torch==2.13.0 takes the CPU build from local disk; a plain "torch" would pull CUDA
for peer in numexpr "jax jaxlib" pytensor tensorflow-cpu tf_keras torch==2.13.0 "onnx onnxruntime"; do
    .bench-venv/bin/python -m pip install -q --disable-pip-version-check $peer \
        || echo "bench: could not install $peer; it is left out of the tables" >&2
done
exec .bench-venv/bin/python -m graphc.tools.bench "$@"
