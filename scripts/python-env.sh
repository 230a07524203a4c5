#!/usr/bin/env bash
# Create the virtualenv .venv and install the project with the tested versions (constraints.txt).
#   scripts/python-env.sh          runtime only
#   scripts/python-env.sh --dev    with the test and lint tools
set -euo pipefail
cd "$(dirname "$0")/.."
python="${PYTHON:-python3}"
[[ -x .venv/bin/python ]] || "$python" -m venv .venv
extra=""
[[ "${1:-}" == "--dev" ]] && extra="[dev]"
.venv/bin/python -m pip install -q --disable-pip-version-check -U pip
.venv/bin/python -m pip install -q --disable-pip-version-check -c constraints.txt -e ".${extra}"
