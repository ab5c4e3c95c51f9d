"""`berth`: the argument parser and the one place that prints results and errors."""

import argparse
import os
import sys

from berth.cli import (
    commands_deployments,
    commands_images,
    commands_keys,
    commands_logs,
    commands_metrics,
    commands_powers,
    commands_services,
)
from berth.cli.client import BerthClient
from berth.cli.connection import connect
from berth.cli.errors import CliError
from berth.cli.output import FORMATS, render
from berth.cli.rest import Unreachable

# Lightsail's exclusion syntax starts with '-' (`--filter-pattern -ERROR`), which argparse
# would take for an option; these flags always take the next word as their value.
DASH_VALUE_FLAGS = ("--filter-pattern", "--filter")

COMMAND_MODULES = (
    commands_services,
    commands_deployments,
    commands_images,
    commands_keys,
    commands_logs,
    commands_metrics,
    commands_powers,
)


def build_parser() -> argparse.ArgumentParser:
    # SUPPRESS, so an option given before the command is not reset by the command's default.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--kubeconfig", default=argparse.SUPPRESS, help="path to a kubeconfig")
    common.add_argument("--context", default=argparse.SUPPRESS, help="kubeconfig context")
    common.add_argument(
        "-n",
        "--namespace",
        default=argparse.SUPPRESS,
        help="namespace (default: the context's, else default)",
    )
    common.add_argument(
        "-o", "--output", choices=FORMATS, default=argparse.SUPPRESS, help="output format"
    )
    parser = argparse.ArgumentParser(
        prog="berth",
        parents=[common],
        description="Lightsail-style container services on Kubernetes; "
        "the verbs, flags and JSON of `aws lightsail`.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in COMMAND_MODULES:
        module.register(commands, common)
    return parser


def attach_dash_values(argv: list[str]) -> list[str]:
    """`--filter-pattern -ERROR` → `--filter-pattern=-ERROR`."""
    joined: list[str] = []
    words = iter(argv)
    for word in words:
        if word in DASH_VALUE_FLAGS:
            value = next(words, None)
            joined.append(word if value is None else f"{word}={value}")
        else:
            joined.append(word)
    return joined


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(attach_dash_values(sys.argv[1:] if argv is None else argv))
    try:
        target = connect(
            getattr(args, "kubeconfig", None),
            getattr(args, "context", None),
            getattr(args, "namespace", None),
        )
        output = args.run(args, BerthClient(target.rest, target.namespace))
    except CliError as error:
        print(f"berth: error: {error}", file=sys.stderr)
        return 1
    except Unreachable as error:
        print(f"berth: error: cannot reach the Kubernetes API server: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    text = render(output, getattr(args, "output", None))
    if text:
        try:
            print(text, flush=True)
        except BrokenPipeError:
            # The reader (`| head`) left; keep Python from complaining again at exit.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return 141
    return 0


if __name__ == "__main__":
    sys.exit(main())
