#!/usr/bin/env bash
# The main job on the built-in demo data, on CPU, from a fresh clone:
#   1. set up .venv (once),  2. build the demo data (seconds),
#   3. train FoCus-demo briefly (shows the loop, validation, checkpoints,
#      FLOPs profile),  4. evaluate the shipped demo checkpoint on the held-out
#      test split, dump manipulation maps and figures (ROC, histograms, map
#      gallery), write the static HTML report, print detection and map quality.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
bash tools/setup_env.sh
PY=${VENV:-"$ROOT/.venv"}/bin/python
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"
RUN=work_dirs/demo/$(date +%Y%m%d_%H%M%S)
if [ ! -f data/demo_faces/test.json ]; then
  "$PY" tools/misc/build_demo_data.py --out data/demo_faces
fi
echo "[demo] 1/2 short training run of FoCus-demo on CPU -> $RUN/train"
"$PY" tools/train.py configs/focus/vit-demo_demo-sbi_quick.py \
  --work-dir "$RUN/train"
echo "[demo] 2/2 evaluating the shipped checkpoint -> $RUN/test"
"$PY" tools/test.py configs/focus/vit-demo_demo-sbi.py \
  checkpoints/focus_vit-demo_demo-sbi.pth --work-dir "$RUN/test" \
  --out "$RUN/test/predictions.json"
"$PY" tools/report.py "$RUN/test" --out "$RUN/test/report.html"
"$PY" tools/misc/demo_summary.py "$RUN/test" --train-dir "$RUN/train"
echo "[demo] figures: $RUN/test/vis/test/  report: $RUN/test/report.html"
