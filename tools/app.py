# Copyright (c) mmfocus contributors.
"""The interactive local app (the same as ``python -m mmfocus.app``): an
image or a video in the browser -> every face's fake score, manipulation
map and fake-evidence map, the boxes, a video's per-frame scores.

Example:
    python tools/app.py                  # demo model on http://127.0.0.1:7860/
    python tools/app.py --config CFG --checkpoint CKPT --device cuda

See docs/en/user_guides/app.md.
"""
from mmfocus.app import main
from mmfocus.utils.cli import cli_main

if __name__ == '__main__':
    cli_main(main)()
