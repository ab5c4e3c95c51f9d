"""get-container-service-powers and `berth powers`."""

import argparse

from berth.cli.arguments import Subcommands, command
from berth.cli.client import BerthClient
from berth.cli.output import Output
from berth.cli.shapes import power_shape
from berth.cli.tables import powers_table


def register(commands: Subcommands, common: argparse.ArgumentParser) -> None:
    command(
        commands,
        common,
        "get-container-service-powers",
        "The powers (node sizes) a service can have.",
        get_powers,
    )
    command(commands, common, "powers", "List the powers (a table).", list_powers)


def get_powers(args: argparse.Namespace, client: BerthClient) -> Output:
    shapes = [power_shape(p) for p in client.powers()]
    return Output({"powers": shapes}, powers_table(shapes))


def list_powers(args: argparse.Namespace, client: BerthClient) -> Output:
    output = get_powers(args, client)
    return Output(output.data, output.text, default="table")
