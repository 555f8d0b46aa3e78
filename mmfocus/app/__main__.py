# Copyright (c) mmfocus contributors.
"""``python -m mmfocus.app``: see :mod:`mmfocus.app.cli`."""
from mmfocus.utils.cli import cli_main

from .cli import main

if __name__ == '__main__':
    cli_main(main)()
