"""The command line's wiring: verbs and flags of `aws lightsail`, options like kubectl's."""

from __future__ import annotations

import argparse
import subprocess
import sys

import pytest

from berth.cli.main import attach_dash_values, build_parser, main

LIGHTSAIL_VERBS = [
    "create-container-service",
    "update-container-service",
    "delete-container-service",
    "get-container-services",
    "create-container-service-deployment",
    "get-container-service-deployments",
    "get-container-log",
    "get-container-service-metric-data",
    "get-container-service-powers",
]
SHORT_FORMS = ["ls", "deploy", "logs", "rollback", "powers"]


def command_names(parser: argparse.ArgumentParser) -> set[str]:
    """The exact names the parser accepts as a command (substrings of the help prove nothing:
    `deploy` is inside `create-container-service-deployment`)."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return set(action.choices)
    raise AssertionError("the parser has no commands")


@pytest.mark.parametrize("verb", LIGHTSAIL_VERBS + SHORT_FORMS)
def test_every_lightsail_verb_and_short_form_is_a_command(verb: str) -> None:
    assert verb in command_names(build_parser())


def test_aws_cli_flags_parse_to_their_values() -> None:
    args = build_parser().parse_args(
        [
            "create-container-service",
            "--service-name",
            "shop",
            "--power",
            "nano",
            "--scale",
            "3",
            "--deployment",
            "file://d.json",
            "--public-domain-names",
            "{}",
            "--tags",
            "[]",
        ]
    )
    assert (args.service_name, args.power, args.scale) == ("shop", "nano", 3)
    assert (args.deployment, args.public_domain_names, args.tags) == ("file://d.json", "{}", "[]")
    assert args.wait is False


@pytest.mark.parametrize(
    ("flags", "expected"), [([], None), (["--is-disabled"], True), (["--no-is-disabled"], False)]
)
def test_is_disabled_is_three_valued(flags: list[str], expected: bool | None) -> None:
    args = build_parser().parse_args(["update-container-service", "--service-name", "s", *flags])
    assert args.is_disabled is expected


def test_global_options_work_before_and_after_the_command() -> None:
    parser = build_parser()
    before = parser.parse_args(["-n", "team", "-o", "yaml", "--kubeconfig", "k", "ls"])
    after = parser.parse_args(["ls", "--namespace", "team", "--output", "yaml", "--context", "c"])
    assert (before.namespace, before.output, before.kubeconfig) == ("team", "yaml", "k")
    assert (after.namespace, after.output, after.context) == ("team", "yaml", "c")
    assert not hasattr(parser.parse_args(["ls"]), "namespace")


def test_metric_names_and_statistics_are_lightsails() -> None:
    parser = build_parser()
    args = parser.parse_args(
        [
            "get-container-service-metric-data",
            "--service-name",
            "s",
            "--metric-name",
            "CPUUtilization",
        ]
    )
    assert args.statistics == ["Average", "Maximum"]
    with pytest.raises(SystemExit):
        parser.parse_args(
            ["get-container-service-metric-data", "--service-name", "s", "--metric-name", "Disk"]
        )


def test_deploy_needs_a_file_or_an_image_but_not_both() -> None:
    parser = build_parser()
    assert parser.parse_args(["deploy", "s", "--image", "x", "--port", "80"]).port == 80
    with pytest.raises(SystemExit):
        parser.parse_args(["deploy", "s"])
    with pytest.raises(SystemExit):
        parser.parse_args(["deploy", "s", "-f", "c.json", "--image", "x"])


def parse(argv: list[str]) -> argparse.Namespace:
    return build_parser().parse_args(attach_dash_values(argv))


def test_logs_takes_an_optional_container_and_a_filter() -> None:
    args = parse(["logs", "shop", "--since", "10m", "--filter", "-DEBUG"])
    assert (args.service, args.container, args.since, args.filter_pattern) == (
        "shop",
        None,
        "10m",
        "-DEBUG",
    )


@pytest.mark.parametrize("pattern", ["-ERROR", "?ERROR ?Exception", "-", "--x"])
def test_a_filter_pattern_may_start_with_a_dash_as_in_lightsail(pattern: str) -> None:
    argv = ["get-container-log", "--service-name", "s", "--container-name", "c"]
    assert parse([*argv, "--filter-pattern", pattern]).filter_pattern == pattern
    assert parse([*argv, f"--filter-pattern={pattern}"]).filter_pattern == pattern


def test_only_filter_flags_take_a_dash_value() -> None:
    assert attach_dash_values(["ls", "-n", "x", "--filter"]) == ["ls", "-n", "x", "--filter"]


def test_a_missing_kubeconfig_is_an_error_message_and_exit_1(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["--kubeconfig", "/nonexistent/kubeconfig", "ls"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("berth: error: no kubeconfig at /nonexistent/kubeconfig")


def test_the_cli_imports_neither_kopf_nor_the_operators_handlers() -> None:
    probe = (
        "import sys, berth.cli.main; "
        "print(sorted(m for m in sys.modules if m == 'kopf' or m.startswith(('kopf.', "
        "'berth.handlers', 'berth.reconcile', 'berth.runtime', 'berth.kube', 'devcluster'))))"
    )
    found = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout
    assert found.strip() == "[]"


def test_the_push_help_names_every_image_transport_berth_reads() -> None:
    from berth.cli.commands_images import IMAGE_HELP
    from berth.oci.transports import TRANSPORTS

    assert f"one of {', '.join(TRANSPORTS)}, or NAME" == IMAGE_HELP
