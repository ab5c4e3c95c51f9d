"""Argument pieces that several commands share."""

import argparse
from collections.abc import Callable
from typing import TypeAlias

from berth.cli.client import BerthClient
from berth.cli.output import Output

# Generic only to type checkers; a string keeps the runtime from subscripting it.
Subcommands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"
Run = Callable[[argparse.Namespace, BerthClient], Output]
DEFAULT_TIMEOUT = 600.0


def command(
    commands: Subcommands,
    common: argparse.ArgumentParser,
    name: str,
    summary: str,
    run: Run,
) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = commands.add_parser(
        name, parents=[common], help=summary, description=summary
    )
    parser.set_defaults(run=run)
    return parser


def add_wait(parser: argparse.ArgumentParser, until: str) -> None:
    parser.add_argument(
        "--wait", action="store_true", help=f"wait until {until}, showing progress on stderr"
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT,
        metavar="SECONDS",
        help=f"give up waiting after this long (default {DEFAULT_TIMEOUT:g})",
    )
