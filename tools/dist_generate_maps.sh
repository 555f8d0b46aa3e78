#!/usr/bin/env bash
# Map generation by several processes with torchrun: the frames are split by
# rank, each map is written once, rank 0 writes the annotation.
#   tools/dist_generate_maps.sh GPUS [generate_maps.py args]
#   tools/dist_generate_maps.sh 8 configs/vit/vit-s_ffpp-c40.py vit.pth \
#       --source gradcam --ann train.json --data-root data/ffpp/c40 \
#       --out-dir data/ffpp/c40/maps
# Several machines: NNODES=2 NODE_RANK=0|1 MASTER_ADDR=host PORT=29500 on each.
# Without GPUs the same command runs GPUS CPU processes (gloo backend).
set -euo pipefail
GPUS=$1
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
PORT=${PORT:-29500}
MASTER_ADDR=${MASTER_ADDR:-"127.0.0.1"}
PYTHON=${PYTHON:-python}
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}" \
"$PYTHON" -m torch.distributed.run \
    --nnodes="$NNODES" \
    --node_rank="$NODE_RANK" \
    --master_addr="$MASTER_ADDR" \
    --nproc_per_node="$GPUS" \
    --master_port="$PORT" \
    "$ROOT/tools/generate_maps.py" \
    "${@:2}" --launcher pytorch
