"""The pure parts of running Berth in the dev cluster: how make run chooses, the chart values,
the AWS profile, and reading the audit log."""

from __future__ import annotations

import configparser
import dataclasses
import datetime
import pathlib
from typing import Any

import pytest

from devcluster import components
from devcluster.audit import AuditEntry, parse_entry, write_runs
from devcluster.in_cluster import DEV_OVERCOMMIT_RATIO, chart_values, split_reference
from devcluster.lightsail_process import write_aws_profile
from devcluster.run_operator import choose


@dataclasses.dataclass
class Plane:
    node: object | None


@pytest.mark.parametrize(
    ("plane", "external", "wanted", "in_pods"),
    [
        (Plane(node=object()), False, "auto", True),
        (Plane(node=object()), False, "pods", True),
        (Plane(node=object()), False, "process", False),
        (Plane(node=None), False, "auto", False),
        (None, False, "auto", False),
        (None, True, "auto", False),
        (None, True, "pods", False),
    ],
)
def test_make_run_runs_the_operator_in_pods_only_on_a_real_node(
    plane: Any, external: bool, wanted: str, in_pods: bool
) -> None:
    choice = choose(plane, external, wanted)
    assert choice.in_pods is in_pods
    assert choice.why


def test_asking_for_pods_without_a_real_node_is_an_error_not_a_silent_process() -> None:
    with pytest.raises(RuntimeError, match="needs the real node"):
        choose(None, False, "pods")


def test_chart_values_name_the_imported_image_and_never_pull_it() -> None:
    values = chart_values("berth.local/berth-operator:0.1.0", replicas=3, region="eu-1")
    assert values["image"] == {
        "repository": "berth.local/berth-operator",
        "tag": "0.1.0",
        "pullPolicy": "Never",
    }
    assert values["replicaCount"] == 3 and values["region"] == "eu-1"


def test_a_registry_port_is_not_a_tag() -> None:
    assert split_reference("registry:5000/team/berth:1.2") == ("registry:5000/team/berth", "1.2")
    with pytest.raises(ValueError, match="no tag"):
        split_reference("registry:5000/team/berth")


def test_the_aws_profile_points_at_the_endpoint_with_its_ca_and_keeps_the_secret_private(
    tmp_path: pathlib.Path,
) -> None:
    key = {"AccessKeyId": "AKIDEXAMPLE", "SecretAccessKey": "s3cr3t"}
    ca = tmp_path / "ca.crt"
    config_path, credentials_path = write_aws_profile(
        tmp_path / "aws", url="https://127.0.0.1:9", region="local", key=key, ca_bundle=ca
    )
    config = configparser.ConfigParser()
    config.read(config_path)
    assert dict(config["default"]) == {
        "region": "local",
        "output": "json",
        "endpoint_url": "https://127.0.0.1:9",
        "ca_bundle": str(ca),
    }
    credentials = configparser.ConfigParser()
    credentials.read(credentials_path)
    assert credentials["default"]["aws_secret_access_key"] == "s3cr3t"
    assert credentials_path.stat().st_mode & 0o077 == 0


def entry(pod: str, second: int) -> AuditEntry:
    when = datetime.datetime(2026, 1, 1, 0, 0, second, tzinfo=datetime.UTC)
    return AuditEntry(when, "system:serviceaccount:ns:berth", pod, "patch", "pods", "ns", "x", 200)


def test_writes_fold_into_runs_of_one_pod() -> None:
    entries = [entry("a", 1), entry("a", 2), entry("b", 3), entry("a", 4), entry("a", 5)]
    assert write_runs(entries) == [("a", 2), ("b", 1), ("a", 2)]
    assert write_runs([]) == []


def test_an_audit_event_names_the_pod_behind_a_bound_token() -> None:
    event = {
        "verb": "create",
        "user": {
            "username": "system:serviceaccount:berth-system:berth",
            "extra": {"authentication.kubernetes.io/pod-name": ["berth-abc"]},
        },
        "objectRef": {"resource": "deployments", "namespace": "web", "name": "hello"},
        "responseStatus": {"code": 201},
        "requestReceivedTimestamp": "2026-11-29T21:00:00.123456Z",
    }
    parsed = parse_entry(event)
    assert (parsed.pod, parsed.verb, parsed.resource, parsed.code) == (
        "berth-abc",
        "create",
        "deployments",
        201,
    )
    assert parsed.time.tzinfo is not None


def test_the_audit_policy_logs_only_service_accounts_writes() -> None:
    rules = components.audit_policy()["rules"]
    assert isinstance(rules, list)
    first, last = rules
    assert first["userGroups"] == ["system:serviceaccounts"]
    assert "get" not in first["verbs"] and "patch" in first["verbs"]
    assert last == {"level": "None"}


def test_make_run_overcommits_so_that_a_few_dozen_services_fit_one_machine() -> None:
    values = chart_values("berth.local/berth-operator:0.1.0")
    assert values["overcommitRatio"] == DEV_OVERCOMMIT_RATIO
    nano_millicores = 250
    assert 2000 // int(nano_millicores * DEV_OVERCOMMIT_RATIO) >= 36
