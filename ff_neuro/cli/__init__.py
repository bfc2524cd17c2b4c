"""The ``ff-neuro`` command line. Each stage registers its subcommands from its own module."""

from __future__ import annotations

import argparse
import sys

from ..errors import FFNeuroError
from ..runtime import keep_freed_memory
from . import demo, lava, learn, report, spike, train

# Modules with a ``register(subparsers)`` function, in the order they appear in --help.
COMMAND_MODULES = [train, spike, lava, learn, report, demo]


class Parser(argparse.ArgumentParser):
    """argparse with one-line errors (exit code 2), like every other user error of ff-neuro."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _oserror_line(e: OSError) -> str:
    """'Permission denied: runs/x' rather than a traceback."""
    if e.strerror and e.filename:
        return f"{e.strerror}: {e.filename}" + (f" -> {e.filename2}" if e.filename2 else "")
    return str(e) or type(e).__name__


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="ff-neuro",
        description="Forward-Forward CNNs: train (rate or spiking), convert to spikes, deploy on Lava, report.",
    )
    parser.add_argument(
        "--version", action="version", version=f"%(prog)s {__import__('ff_neuro').__version__}"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for mod in COMMAND_MODULES:
        mod.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command. User errors (bad config, checkpoint, path, device, value; an ``OSError`` from the
    file system) print one line to stderr and return 2; anything else is a bug and keeps its traceback."""
    args = build_parser().parse_args(argv)
    keep_freed_memory()  # every command allocates the same large buffers again and again
    try:
        return args.func(args) or 0
    except FFNeuroError as e:
        print(f"ff-neuro: error: {' '.join(str(e).split())}", file=sys.stderr)
        return 2
    except OSError as e:
        print(f"ff-neuro: error: {_oserror_line(e)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(
            "ff-neuro: interrupted"
            + (
                "; the last checkpoint is intact (continue with --resume)"
                if args.command == "train"
                else ""
            ),
            file=sys.stderr,
        )
        return 130
