# Copyright (c) mmfocus contributors.
"""Check and convert a local RetinaFace-MobileNet0.25 checkpoint for
mmfocus's PyTorch face detector.

mmfocus never downloads weights. Get ``mobilenet0.25_Final.pth`` (1.7 MB,
trained on WIDER FACE) from the release of the public PyTorch RetinaFace
(biubug6/Pytorch_Retinaface) yourself, then:

    python tools/model_converters/retinaface_to_mmfocus.py \
        mobilenet0.25_Final.pth checkpoints/retinaface_mnet025.pth

The detector also reads the published file as it is (the DataParallel
``module.`` prefix is removed when loading); converting checks it once, key
for key, loads it as weights only, and writes a plain state dict:

    python tools/dataset_converters/ffpp.py ... --detector retinaface \
        --detector-weights checkpoints/retinaface_mnet025.pth
"""
import argparse

import torch

from mmfocus.faces.retinaface import convert_retinaface
from mmfocus.utils.checkpoint import load_state_dict_file
from mmfocus.utils.cli import cli_main
from mmfocus.utils.io import atomic_open


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('src', help='RetinaFace-MobileNet0.25 checkpoint (.pth)')
    p.add_argument('dst', help='output .pth for TorchRetinaFaceDetector')
    p.add_argument('--overwrite', action='store_true')
    args = p.parse_args(argv)
    state = convert_retinaface(load_state_dict_file(args.src))
    with atomic_open(args.dst, 'wb', overwrite=args.overwrite) as f:
        torch.save(state, f)
    n = sum(v.numel() for k, v in state.items()
            if not k.endswith('num_batches_tracked'))
    print(f'wrote {args.dst}: {len(state)} tensors, {n:,} values')
    return state


if __name__ == '__main__':
    cli_main(main)()
