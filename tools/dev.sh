#!/usr/bin/env bash
# Set up everything graphc needs on a fresh machine, then run the demo or the test suite.
#   bash tools/dev.sh demo [ARGS]   # train the Inception CNN on the digits (ARGS: --quick ...)
#   bash tools/dev.sh test [ARGS]   # the whole test suite (extra ARGS go to pytest)
#   bash tools/dev.sh wheel         # build the wheel, install it into a fresh venv, try it
#   bash tools/dev.sh ci            # wheel, then test (what .ci/run does)
set -euo pipefail
cd "$(dirname "$0")/.."

ensure_graphviz() {
    command -v dot >/dev/null 2>&1 && return 0
    if command -v apt-get >/dev/null 2>&1; then
        local sudo=""
        [ "$(id -u)" = 0 ] || sudo="sudo"
        echo "graphviz 'dot' not found: installing it with apt-get" >&2
        if $sudo apt-get update -qq && $sudo apt-get install -y -qq graphviz >/dev/null; then
            return 0
        fi
    fi
    echo "WARNING: graphviz 'dot' is missing and could not be installed here;" \
         "install it (Debian/Ubuntu: apt-get install graphviz, macOS: brew install graphviz)." \
         "Rendering to PNG needs it." >&2
}

ensure_venv() {
    if [ ! -x .venv/bin/python ]; then
        python3 -m venv .venv
    fi
    .venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip >/dev/null
    # demo: scikit-learn (the digits data) and tqdm (progress bar), for the demo and its test
    .venv/bin/python -m pip install -q --disable-pip-version-check -e ".[test,fast,onnx,tensorboard,dask,demo,image]"
}

# The package as a user gets it: build the wheel, install it into a fresh virtual environment
# outside the source tree, and from a directory outside the tree run the graphc command and
# the smoke test. Kept fast: dependencies come from pip's cache, the project's pip installs
# into the venv (no pip of its own), and nothing is byte-compiled ahead. Leaves the wheel's
# path in GRAPHC_WHEEL (tests/test_packaging.py inspects it instead of building another).
check_wheel() {
    local root scratch
    root="$(pwd)"
    scratch="$(mktemp -d)"
    SCRATCH="$scratch"
    # built from a copy: setuptools would add stale files from an old build/ in the tree
    mkdir "$scratch/src"
    cp -r pyproject.toml setup.py README.md graphc passes runtime tools "$scratch/src"
    .venv/bin/python -m pip wheel -q --disable-pip-version-check --no-deps -w "$scratch/dist" \
        "$scratch/src"
    python3 -m venv --without-pip "$scratch/venv"
    .venv/bin/python -m pip --python "$scratch/venv/bin/python" install -q --no-compile \
        --disable-pip-version-check "$scratch"/dist/graphc-*.whl
    (
        cd "$scratch"
        export PATH="$scratch/venv/bin:$PATH"
        graphc --help >/dev/null
        graphc render "$root/tools/examples/expression.py" -o expression.png
        graphc render "$root/tools/examples/network.py" -o network.dot
        graphc inspect "$root/tools/examples/network.py" --html report.html >/dev/null
        python -m graphc.tools.smoke --outside "$root" --png smoke.png
    )
    GRAPHC_WHEEL="$(echo "$scratch"/dist/graphc-*.whl)"
    export GRAPHC_WHEEL
    echo "wheel checked: $GRAPHC_WHEEL installs and runs outside the source tree" >&2
}

SCRATCH=""
trap '[ -z "$SCRATCH" ] || rm -rf "$SCRATCH"' EXIT

command="${1:-test}"
shift || true
ensure_graphviz
ensure_venv
case "$command" in
    demo) .venv/bin/python -m graphc.tools.demo "$@" ;;
    test) .venv/bin/python -m pytest -n auto "$@" ;;
    wheel) check_wheel ;;
    ci) check_wheel && .venv/bin/python -m pytest -n auto "$@" ;;
    *) echo "usage: bash tools/dev.sh {demo|test|wheel|ci} [args]" >&2; exit 2 ;;
esac
