#!/usr/bin/env bash
# The GPU check, run by hand on a machine with CUDA (no test needs one): the bench, then a CUDA training of the
# whole exercise grid on a fresh home, in one call. Record what it prints in BENCHMARKS.md.
#   FMNIST_DATA_DIR=/path/to/fashion-mnist benchmarks/gpu_check.sh
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
export FMNIST_HOME=${FMNIST_HOME:-$(mktemp -d)}
export PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || echo "nvidia-smi: not found"
"$PY" - <<'PY'
import os, torch
print(f"torch {torch.__version__}, CUDA available: {torch.cuda.is_available()}, CPU cores: {os.cpu_count()}")
if torch.cuda.is_available():
    print(f"GPU: {torch.cuda.get_device_name(0)}")
PY
echo "== bench"
"$PY" -m fmnist_core bench
echo "== exercise grid on a fresh home ($FMNIST_HOME)"
TIMEFORMAT="whole precompute command: %R s"
time "$PY" -m fmnist_core precompute
"$PY" -m fmnist_core train --preset fast-cnn --json | tail -1
