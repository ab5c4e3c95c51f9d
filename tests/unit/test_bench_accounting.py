"""The side-by-side benchmark's accounting: writes from the audit log, CPU and RSS from /proc."""

from __future__ import annotations

import datetime

import pytest
from bench import accounting

from devcluster.audit import AuditEntry, parse_entry

T0 = datetime.datetime(2026, 11, 30, 1, 0, tzinfo=datetime.UTC)
KNATIVE = "system:serviceaccount:knative-serving:controller"


def write(
    second: int,
    resource: str,
    verb: str = "create",
    user: str = KNATIVE,
    group: str = "",
    subresource: str = "",
    code: int = 201,
) -> AuditEntry:
    return AuditEntry(
        time=T0 + datetime.timedelta(seconds=second),
        user=user,
        pod="",
        verb=verb,
        resource=resource,
        namespace="bench",
        name="x",
        code=code,
        group=group,
        subresource=subresource,
    )


def test_a_label_tells_knatives_services_and_status_writes_apart() -> None:
    assert accounting.write_label(write(0, "services")) == "services create"
    knative = write(0, "services", "update", group="serving.knative.dev", subresource="status")
    assert accounting.write_label(knative) == "services.serving.knative.dev/status update"


def test_the_audit_entry_carries_group_and_subresource() -> None:
    event = {
        "verb": "update",
        "user": {"username": KNATIVE},
        "objectRef": {
            "resource": "ingresses",
            "apiGroup": "networking.internal.knative.dev",
            "subresource": "status",
            "namespace": "bench",
            "name": "svc-0000",
        },
        "responseStatus": {"code": 200},
        "requestReceivedTimestamp": "2026-11-30T01:00:00.5Z",
    }
    parsed = parse_entry(event)
    assert (parsed.group, parsed.subresource) == ("networking.internal.knative.dev", "status")


def test_only_the_sides_users_in_the_window_are_counted() -> None:
    entries = [
        write(0, "deployments", group="apps"),
        write(1, "deployments", group="apps"),
        write(1, "events", user="system:serviceaccount:bench:berth-operator"),
        write(5, "deployments", group="apps"),
    ]
    found = accounting.writes_of(entries, [KNATIVE], T0, T0 + datetime.timedelta(seconds=5))
    assert accounting.count_by_label(found) == {"deployments.apps create": 2}
    assert len(accounting.writes_of(entries, [KNATIVE], T0 + datetime.timedelta(seconds=1))) == 2


def test_lease_renewals_are_kept_apart_and_refusals_counted() -> None:
    entries = [
        write(0, "leases", "update", group="coordination.k8s.io"),
        write(0, "routes", "update", group="serving.knative.dev", code=409),
        write(0, "routes", "update", group="serving.knative.dev"),
    ]
    leases, work = accounting.split_leases(entries)
    assert [e.resource for e in leases] == ["leases"]
    assert [e.resource for e in work] == ["routes", "routes"]
    assert accounting.refused(work) == 1


def test_cpu_seconds_come_from_utime_and_stime_even_with_odd_names() -> None:
    # pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime
    stat = "42 (kube (x) y) S 1 42 42 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 9 0 1 2 3"
    assert accounting.cpu_seconds(stat, 100) == pytest.approx(3.0)


def test_peak_rss_is_the_high_water_mark_in_mib() -> None:
    status = "Name:\tcontroller\nVmPeak:\t 900000 kB\nVmHWM:\t   51200 kB\nVmRSS:\t 40000 kB\n"
    assert accounting.peak_rss_mb(status) == 50.0
