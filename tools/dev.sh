#!/usr/bin/env bash
# Set up everything graphc needs on a fresh machine, then run the demo or the test suite.
#   bash tools/dev.sh demo          # build, run and print a small model
#   bash tools/dev.sh test [ARGS]   # the whole test suite (extra ARGS go to pytest)
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
    .venv/bin/python -m pip install -q --disable-pip-version-check -e ".[test,fast]"
}

command="${1:-test}"
shift || true
ensure_graphviz
ensure_venv
case "$command" in
    demo) exec .venv/bin/python -m graphc.tools.demo "$@" ;;
    test) exec .venv/bin/python -m pytest -n auto "$@" ;;
    *) echo "usage: bash tools/dev.sh {demo|test} [args]" >&2; exit 2 ;;
esac
