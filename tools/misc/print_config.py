# Copyright (c) mmfocus contributors.
"""Print the fully merged config (after _base_ inheritance and options).

Example:
    python tools/misc/print_config.py my_config.py \
        --cfg-options model.fused_weight=1.0
"""
import argparse

from mmfocus.apis.runner import load_config
from mmfocus.utils.cli import cli_main


def main(argv=None):
    p = argparse.ArgumentParser(description='Print the merged config')
    p.add_argument('config', help='config file path')
    p.add_argument('--cfg-options', nargs='+', default=None,
                   metavar='KEY=VALUE')
    p.add_argument('--allow-new-keys', action='store_true')
    args = p.parse_args(argv)
    cfg = load_config(args.config, args.cfg_options, args.allow_new_keys)
    print(cfg.pretty_text)


if __name__ == '__main__':
    cli_main(main)()
