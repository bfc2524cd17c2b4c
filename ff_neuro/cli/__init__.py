"""The ``ff-neuro`` command line. Each stage registers its subcommands from its own module.

Every message to the user is one line on stderr: ``ff-neuro: error: …`` (exit code 2) for a user
error, ``ff-neuro: warning: …`` for every Python warning raised while a command runs (the library
warns with :func:`warnings.warn`; :func:`main` prints them in this form, without Python's
``file:line: Category:`` prefix and source line).
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import warnings

from ..errors import FFNeuroError
from ..runtime import keep_freed_memory
from . import demo, lava, learn, report, spike, sweep, train

# Modules with a ``register(subparsers)`` function, in the order they appear in --help.
COMMAND_MODULES = [train, sweep, spike, lava, learn, report, demo]


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


def one_line(message) -> str:
    """``message`` with every run of white space (newlines included) collapsed to one space."""
    return " ".join(str(message).split())


def show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """:func:`warnings.showwarning` of the CLI: ``ff-neuro: warning: <message>`` as one line on stderr
    (no file, line number, category or source line)."""
    print(f"ff-neuro: warning: {one_line(message)}", file=file or sys.stderr)


@contextlib.contextmanager
def one_line_warnings():
    """Within the block, every warning shown is printed by :func:`show_warning`; restored afterwards."""
    previous = warnings.showwarning
    warnings.showwarning = show_warning
    try:
        yield
    finally:
        warnings.showwarning = previous


def main(argv: list[str] | None = None) -> int:
    """Run one command. User errors (bad config, checkpoint, path, device, value; an ``OSError`` from the
    file system) print one line to stderr and return 2; anything else is a bug and keeps its traceback.
    Warnings print as one line each (:func:`show_warning`)."""
    args = build_parser().parse_args(argv)
    keep_freed_memory()  # every command allocates the same large buffers again and again
    with one_line_warnings():
        return _run(args)


def _run(args: argparse.Namespace) -> int:
    """``args.func(args)`` with user errors and Ctrl-C turned into one line on stderr."""
    try:
        return args.func(args) or 0
    except FFNeuroError as e:
        print(f"ff-neuro: error: {one_line(e)}", file=sys.stderr)
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
