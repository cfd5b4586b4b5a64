"""The `nvdla-int8` command line: thin front door over the library.

Each command group exposes `register(subparsers)`: calib/commands.py and commands/.
"""
from __future__ import annotations

import argparse
import sys

from . import __version__
from .errors import InputError


def build_parser() -> argparse.ArgumentParser:
    from .calib import commands as calib_commands
    from .commands import compile as compile_commands
    from .commands import replay as replay_commands

    p = argparse.ArgumentParser(prog="nvdla-int8", description=__doc__.splitlines()[0])
    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    replay_commands.register(sub)
    calib_commands.register(sub)
    compile_commands.register(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (InputError, OSError) as e:
        print(f"nvdla-int8 {args.command}: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
