#!/usr/bin/env bash
# The recorded command that produced checkpoints/focus_vit-demo_demo-sbi.pth.
# Runs on one GPU (it was run on a lent H200); on CPU it is correct but slow.
# Run from the repository root:
#   bash .dev_scripts/device/train_demo_checkpoint.sh OUT_DIR [train.py args]
# Needs the demo data (python tools/misc/build_demo_data.py) and, on a machine
# without the OpenMMLab packages, wheels in .whl/
# (.dev_scripts/device/gpu_wheels.sh).
set -euo pipefail
OUT=${1:?usage: train_demo_checkpoint.sh OUT_DIR}
shift || true
source "$(dirname "$0")/use_wheels.sh"  # sets PY, PYTHONPATH
WORK=${WORK:-/tmp/focus_demo_work}
NW=${NUM_WORKERS:-12}
mkdir -p "$OUT"
# TRAIN_TIMEOUT (seconds, optional) stops training early on a time-limited
# machine; the last saved checkpoint (every 1000 iterations) is then used.
TO=()
[ -n "${TRAIN_TIMEOUT:-}" ] && TO=(timeout "$TRAIN_TIMEOUT")
"${TO[@]}" "$PY" tools/train.py configs/focus/vit-demo_demo-sbi.py \
  --work-dir "$WORK" --force --amp fp16 --cfg-options \
  train_dataloader.num_workers="$NW" val_dataloader.num_workers=4 \
  test_dataloader.num_workers=4 "$@" 2>&1 | tee "$OUT/train.log" || \
  echo "training stopped early (exit $?): using the last checkpoint"
last=$(cat "$WORK/last_checkpoint")
"$PY" tools/model_converters/publish_model.py "$last" \
  "$OUT/focus_vit-demo_demo-sbi.pth" --fp16 --no-hash --overwrite
"$PY" tools/test.py configs/focus/vit-demo_demo-sbi.py \
  "$OUT/focus_vit-demo_demo-sbi.pth" --work-dir "$WORK/test" --no-maps \
  --out "$OUT/test_predictions.json" --overwrite 2>&1 | tee "$OUT/test.log"
cp "$WORK/flops.json" "$OUT/" 2>/dev/null || true
