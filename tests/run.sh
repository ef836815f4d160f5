#!/usr/bin/env bash
# The test command: creates (or reuses) a virtual environment in .venv, installs cpc with its
# test extra, and runs pytest.  Extra arguments go to pytest:  tests/run.sh -k infonce -x
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${CPC_VENV:-.venv}
PYTHON=${PYTHON:-python3}
TORCH_VERSION=${CPC_TORCH_VERSION:-2.13.0}  # pinned: an unpinned torch pulls a multi-GB CUDA build

if [ ! -x "$VENV/bin/python" ]; then
    "$PYTHON" -m venv "$VENV"
fi
# Reinstall only when the package metadata changed since the last install.
stamp="$VENV/.cpc-installed"
want="$(cat setup.cfg pyproject.toml | sha256sum | cut -d' ' -f1) torch==$TORCH_VERSION"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    "$VENV/bin/python" -m pip install -q --upgrade pip
    "$VENV/bin/python" -m pip install -q "torch==$TORCH_VERSION"
    "$VENV/bin/python" -m pip install -q -e ".[dev]"
    echo "$want" > "$stamp"
fi
exec "$VENV/bin/python" -m pytest "$@"
