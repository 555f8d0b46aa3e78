#!/usr/bin/env bash
# The recorded GPU benchmark of docs/en/useful_tools/benchmark.md (one script,
# under 10 minutes on one H100/H200). Every step writes its JSON/log to OUT_DIR
# as it finishes, so a time limit keeps what was measured.
# Run from the repository root:
#   bash .dev_scripts/device/gpu_benchmark.sh OUT_DIR
# Needs the demo data (built here when missing) and, on a machine without the
# OpenMMLab packages, wheels in .whl/ (.dev_scripts/device/gpu_wheels.sh).
set -uo pipefail
OUT=${1:?usage: gpu_benchmark.sh OUT_DIR}
mkdir -p "$OUT"
source "$(dirname "$0")/use_wheels.sh"  # sets PY, PYTHONPATH
NW=${NUM_WORKERS:-14}
CFG=configs/focus/vit-s_ffpp-lq.py
DATA=(--cfg-options train_dataloader.dataset.data_root=data/demo_faces)
{ nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv
  "$PY" -c 'import torch, timm; print("torch", torch.__version__, "cuda",
torch.version.cuda, "timm", timm.__version__)'; nproc; } > "$OUT/env.txt" 2>&1
[ -f data/demo_faces/train.json ] || "$PY" tools/misc/build_demo_data.py \
  > "$OUT/build_demo_data.log" 2>&1
B=tools/analysis/benchmark.py
# STEPS (optional): names of the steps to run, e.g. STEPS="bf16_b128 efb4_bf16"
step() {  # step NAME TIMEOUT CMD...
  local name=$1 to=$2; shift 2
  if [ -n "${STEPS:-}" ] && [[ " $STEPS " != *" $name "* ]]; then return; fi
  echo "== $name"; date +%T
  timeout "$to" "$@" > "$OUT/$name.log" 2>&1; echo "exit $?" >> "$OUT/$name.log"
  tail -n 25 "$OUT/$name.log"
}
# 1. FoCus ViT-S vs two DeiT-S, bf16, batch 128 (the issue's setting), plus the
#    data pipeline (FF++ pipeline on the demo crops) with NW workers
step bf16_b128 130 "$PY" $B $CFG --batch-size 128 --amp bf16 --warmup 3 \
  --repeats 7 --iters 3 --workers "$NW" --data-samples 3072 \
  --out "$OUT/bf16_b128.json" "${DATA[@]}"
# 1a. the two branches as one batched computation (stacked weights, vmap;
#     issue 15 item 1), against the same two DeiT-S
step bf16_b128_batch_branches 100 "$PY" $B $CFG --batch-size 128 --amp bf16 \
  --warmup 3 --repeats 5 --iters 3 --data-samples 0 --no-memory \
  --out "$OUT/bf16_b128_batch_branches.json" \
  --cfg-options model.batch_branches=True
# 1b. the same pipeline from PNG files and from packed shards of the same
#     faces (issue 15 item 3), NW workers; the model part is a token pass
step data_shards 120 "$PY" $B $CFG --phases infer --reference none \
  --warmup 0 --repeats 1 --no-memory --workers "$NW" --data-samples 2048 \
  --data-shards --out "$OUT/data_shards.json" "${DATA[@]}"
# 2. inference at a larger batch (throughput ceiling), bf16, no training
step bf16_b512_infer 70 "$PY" $B $CFG --batch-size 512 --amp bf16 --warmup 2 \
  --repeats 5 --iters 2 --data-samples 0 --no-memory --phases infer \
  --out "$OUT/bf16_b512_infer.json"
# 3. fp32 (TF32 off by default in torch) at batch 128
step fp32_b128 90 "$PY" $B $CFG --batch-size 128 --amp none --warmup 2 \
  --repeats 5 --iters 2 --data-samples 0 --no-memory --out "$OUT/fp32_b128.json"
# 4. the evaluation model (EfficientNet-B4 + FPN), bf16, channels_last
step efb4_bf16 70 "$PY" $B configs/multitask/efb4-fpn_none_ffpp-c40.py \
  --batch-size 64 --amp bf16 --reference none --warmup 2 --repeats 5 \
  --iters 2 --data-samples 0 --no-memory --out "$OUT/efb4_bf16.json" \
  --cfg-options model.channels_last=True
# 5. the real training loop (mmengine Runner, loader workers, logging) for
#    120 iterations at batch 128, bf16, on the demo crops
step train_loop 120 "$PY" tools/train.py $CFG --work-dir /tmp/bench_train \
  --force --amp bf16 --no-validate --cfg-options \
  train_dataloader.dataset.data_root=data/demo_faces \
  train_dataloader.batch_size=128 train_dataloader.num_workers="$NW" \
  model.backbone.pretrained=None train_cfg.max_iters=120 \
  default_hooks.logger.interval=20 default_hooks.checkpoint.interval=100000 \
  custom_hooks=[]
[ -z "${STEPS:-}" ] || [[ " $STEPS " == *" train_loop "* ]] && \
  cp /tmp/bench_train/*/vis_data/scalars.json "$OUT/train_loop_scalars.json" \
  2>/dev/null || true
# 5b. the same loop against the bare step of the same model, in one run
#    (issue 15 item 2): the config's hooks (DeferredRuntimeInfoHook) and
#    mmengine's RuntimeInfoHook (one .item() per loss term and iteration)
step train_loop_bench 150 "$PY" tools/analysis/benchmark_loop.py $CFG \
  --batch-size 128 --amp bf16 --warmup 10 --iters 50 --repeats 2 \
  --log-interval 20 --out "$OUT/train_loop_bench.json"
# 6. Table VIII: params, FLOPs and inference throughput of FoCus and the
#    compared detectors at full size, side by side, bf16, batch 64
step complexity_table8 150 "$PY" tools/analysis/complexity.py \
  configs/experiments/complexity_table8.py --device cuda --batch-size 64 \
  --amp bf16 --warmup 2 --repeats 5 --out-dir "$OUT/complexity_table8" --force
# 7. torch.compile (inductor) of both models' forward, bf16
step bf16_b128_compile 140 "$PY" $B $CFG --batch-size 128 --amp bf16 \
  --compile --warmup 3 --repeats 5 --iters 3 --data-samples 0 --no-memory \
  --out "$OUT/bf16_b128_compile.json"
# 8. map generation (issue 15 item 5): faces/s of each source at 224 px,
#    bf16 and fp32, FoCus / -CARP attention / GradCAM on random ViT-S weights
#    (ScoreCAM: 384 passes per face, a few faces only)
MAPS=(ssim pixdiff focus=$CFG attention=$CFG gradcam=configs/vit/vit-s_ffpp-c40.py)
for amp in bf16 none; do
  step maps_$amp 80 "$PY" tools/analysis/benchmark_maps.py --device cuda \
    --amp $amp --faces 512 --batch-size 128 --repeats 3 --no-progress \
    --source "${MAPS[@]}" --out "$OUT/maps_$amp.json"
done
step maps_scorecam 60 "$PY" tools/analysis/benchmark_maps.py --device cuda \
  --amp bf16 --faces 8 --batch-size 1 --score-batch-size 384 --repeats 2 \
  --no-progress --source scorecam=configs/vit/vit-s_ffpp-c40.py \
  --out "$OUT/maps_scorecam.json"
# 4. face detection for the converters: batched PyTorch RetinaFace-MobileNet0.25
#    (random weights, no face found: network + decode) at 1080p, fp32 / fp16,
#    against dlib HOG on one core (the DFDC GPU-hours estimate)
step detect_gpu 90 "$PY" tools/analysis/benchmark_detect.py --device cuda \
  --detectors dlib torch:1 torch:10 torch:32 --generate 4 --frames 32 \
  --repeats 3 --no-progress --out "$OUT/detect_fp32.json"
step detect_gpu_fp16 60 "$PY" tools/analysis/benchmark_detect.py \
  --device cuda --fp16 --detectors torch:32 torch:128 --generate 4 \
  --frames 32 --repeats 3 --no-progress --out "$OUT/detect_fp16.json"
date +%T
