#!/usr/bin/env bash
# One GPU check, <= 8 minutes on one GPU: the CUDA-marked tests, the throughput benchmark (5a) and
# the time-to-accuracy benchmark (5b) on CUDA, a 2-process torchrun smoke test when 2+ GPUs exist,
# and (FULLSCALE=1) the full-scale epoch (5c). Every figure goes to one file:
#
#   benchmarks/gpu_check.sh [RESULTS_FILE]      # default: gpu_check_results.txt (or $OUT/ when set)
#
# Environment: PY (python, default .venv/bin/python if present), TTA_SAMPLES (default 100000),
# FULLSCALE=1 to add 5c (about 2-3 more minutes: writes 2.3 GB of float64 files).
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-$( [ -x .venv/bin/python ] && echo .venv/bin/python || echo python3 )}
RESULTS=${1:-${OUT:+$OUT/}gpu_check_results.txt}
TTA_SAMPLES=${TTA_SAMPLES:-100000}
export CICY4_QUIET=1 MPLBACKEND=Agg PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
: > "$RESULTS"
start=$(date +%s)
say() { echo "$@" | tee -a "$RESULTS"; }
step() { say ""; say "== $1 ($(( $(date +%s) - start )) s elapsed)"; }

step "machine"
say "command: benchmarks/gpu_check.sh $*"
nvidia-smi --query-gpu=name,memory.total,driver_version,compute_cap --format=csv 2>&1 | tee -a "$RESULTS"
"$PY" - <<'EOF' 2>&1 | tee -a "$RESULTS"
import torch
print("torch", torch.__version__, "cuda", torch.version.cuda, "cudnn", torch.backends.cudnn.version())
for i in range(torch.cuda.device_count()):
    print(f"gpu {i}: {torch.cuda.get_device_name(i)}, capability {torch.cuda.get_device_capability(i)}, "
          f"bf16 {torch.cuda.is_bf16_supported()}")
EOF
NGPU=$("$PY" -c "import torch; print(torch.cuda.device_count())" 2>/dev/null || echo 0)
[ "$NGPU" -ge 1 ] || { say "no CUDA GPU visible: nothing to check"; exit 1; }

step "CUDA-marked tests"
timeout 150 "$PY" -m pytest -q -m cuda tests/test_train_cuda.py -p no:cacheprovider 2>&1 | tail -15 | tee -a "$RESULTS"

step "5a throughput: published loop vs ours (batch 128 fp32), ours + autocast, ours at the fast recipe's batch"
timeout 150 "$PY" benchmarks/bench_train.py --device cuda --n 100000 --rounds 2 --warmup 20 \
    --json "${RESULTS%.txt}_5a.json" 2>&1 | tail -8 | tee -a "$RESULTS"

step "5b time to accuracy: paper vs fast recipe (LSTM-448, ${TTA_SAMPLES} samples, autocast)"
timeout 200 "$PY" benchmarks/bench_train_tta.py --device cuda --amp --max-samples "$TTA_SAMPLES" \
    --paper-epochs 25 --fast-epochs 12 --json "${RESULTS%.txt}_5b.json" 2>&1 | tail -14 | tee -a "$RESULTS"

if [ "$NGPU" -ge 2 ]; then
    step "torchrun: 2 processes, NCCL"
    tmp=$(mktemp -d)
    timeout 90 "$PY" -m torch.distributed.run --standalone --nproc_per_node=2 -m cicy4lib train ResNet-GRU-256 \
        --data sample --max-samples 4000 --epochs 2 --output-dir "$tmp" --quiet 2>&1 | tail -4 | tee -a "$RESULTS"
    "$PY" -c "import json,sys; m=json.load(open(sys.argv[1])); print('torchrun model.json world_size', m.get('world_size'))" \
        "$tmp/ResNet-GRU-256_72/model.json" 2>&1 | tee -a "$RESULTS"
    rm -rf "$tmp"
else
    step "torchrun: skipped (1 GPU)"
fi

if [ "${FULLSCALE:-0}" = 1 ]; then
    step "5c full scale: synthetic 905,684-entry Kaggle folder, load memory, one whole epoch"
    timeout 240 "$PY" benchmarks/bench_train_fullscale.py --device cuda --full-epoch --amp \
        --json "${RESULTS%.txt}_5c.json" 2>&1 | tail -6 | tee -a "$RESULTS"
fi

step "done in $(( $(date +%s) - start )) s; figures in $RESULTS"
