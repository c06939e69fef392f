#!/usr/bin/env bash
# The GPU check, run by hand on a machine with CUDA (no test needs one), in one call of a few minutes: the bench
# (one seed-CNN epoch against the notebook's loop), the whole exercise grid on a fresh home, then a class's 30
# different 10-epoch runs at once on the one GPU (benchmarks/class_runs.py), two of them again on the CPU to compare
# accuracies. Record what it prints in BENCHMARKS.md, with the device, driver and PyTorch version it prints first.
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
echo "== a class: 30 different runs of 10 epochs at once on this GPU, two of them again on the CPU"
"$PY" benchmarks/class_runs.py --runs 30 --epochs 10 --compare-cpu 2
