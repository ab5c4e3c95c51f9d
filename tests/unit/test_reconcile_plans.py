"""reconcile/plan.py, table-tested in Knative's manner: given the objects the store holds, these
writes and no others. Pure: no API server, no clock."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import Any

import pytest
from tests.unit import builders
from tests.unit.builders import NOW, SERVICE, WEB_ENDPOINT, version

from berth.api.objects import ContainerServiceObject, VersionObject
from berth.api.power import DEFAULT_POWERS
from berth.kube import resources
from berth.reconcile import plan
from berth.reconcile.writes import Apply, Delete, Emit, Patch, SetFinalizer, Write
from berth.render import names
from berth.status import progress
from berth.status.network import Network

NANO = DEFAULT_POWERS["nano"]
DOMAINS = {"shop-cert": ["www.example.com", "shop.example.com"]}


def body_of(service: ContainerServiceObject) -> dict[str, Any]:
    return {
        "apiVersion": "berth.dev/v1alpha1",
        "kind": "ContainerService",
        "metadata": {"name": service.name, "namespace": service.namespace, "uid": "svc-uid"},
    }


def snapshot(
    service: ContainerServiceObject | None = None,
    versions: list[VersionObject] | None = None,
    **fields: Any,
) -> plan.Snapshot:
    service = service or builders.service()
    fields.setdefault("power", NANO)
    fields.setdefault(
        "ledger", builders.ledger(max((v.number or 0 for v in versions or []), default=0))
    )
    return plan.Snapshot(
        service=service,
        body=body_of(service),
        versions=versions or [],
        settings=builders.settings(),
        guid="abcdef123456",
        now=NOW,
        **fields,
    )


def served(snap: plan.Snapshot, template: int, *, ready: bool = True) -> plan.Snapshot:
    """`snap` once the objects it plans are live, and the Deployment runs version `template`
    (its rollout complete when `ready`)."""
    live: dict[resources.Resource, dict[str, Any] | None] = {}
    for write in plan.objects(dataclasses.replace(snap, live={})):
        assert isinstance(write, Apply)
        manifest = write.manifest
        live[resources.BY_KIND[manifest["kind"]]] = {
            **manifest,
            "metadata": {**manifest["metadata"], "uid": f"uid-{manifest['kind']}", "generation": 1},
        }
    deployment = live.get(resources.DEPLOYMENT)
    pods = []
    if deployment is not None:
        replicas = deployment["spec"]["replicas"]
        done = replicas if ready else 0
        deployment["status"] = {
            "observedGeneration": 1,
            "replicas": replicas,
            "updatedReplicas": replicas,
            "readyReplicas": done,
            "availableReplicas": done,
        }
        assert deployment["spec"]["template"]["metadata"]["labels"][names.VERSION_LABEL] == str(
            template
        )
        pods = [
            {
                "metadata": {
                    "name": f"{SERVICE}-{i}",
                    "labels": {names.VERSION_LABEL: str(template)},
                },
                "status": {"containerStatuses": [{"name": "app", "ready": ready}]},
            }
            for i in range(replicas)
        ]
    return dataclasses.replace(snap, live=live, deployment=deployment, pods=pods)


def summary(writes: list[Write]) -> list[tuple[Any, ...]]:
    """Each write as a short tuple that says what it does, for tables a reader can check."""
    found: list[tuple[Any, ...]] = []
    for write in writes:
        if isinstance(write, Apply):
            meta = write.manifest["metadata"]
            found.append(("apply", write.manifest["kind"], meta["name"]))
        elif isinstance(write, Delete):
            found.append(("delete", write.resource.kind, write.key[1]))
        elif isinstance(write, Patch):
            status = write.patch.get("status") or {}
            what = status.get("state") or sorted(status)
            found.append(("status", write.resource.kind, write.key[1], what))
        elif isinstance(write, SetFinalizer):
            found.append(("finalizer", write.resource.kind, write.key[1], write.wanted))
        elif isinstance(write, Emit):
            found.append(("event", write.event["type"], write.event["reason"]))
    return found


def reconciled(snap: plan.Snapshot, after: plan.Snapshot | None = None) -> list[tuple[Any, ...]]:
    """Both plans of one reconcile: objects from `snap`, statuses from `after` (the store once
    the objects were sent; `snap` when they change nothing that matters here)."""
    versions_plan = snap.versions_plan()
    return summary(plan.objects(snap)) + summary(plan.statuses(after or snap, versions_plan))


def endpoint_version(number: int, state: str | None, **kw: Any) -> VersionObject:
    """A version as Berth left it: its status observed at its generation."""
    plain = version(number, state, endpoint=WEB_ENDPOINT, **kw)
    return plain.model_copy(
        update={
            "metadata": plain.metadata.model_copy(update={"generation": 1}),
            "status": plain.status.model_copy(update={"observed_generation": 1}),
        }
    )


def with_finalizer(v: VersionObject) -> VersionObject:
    meta = v.metadata.model_copy(update={"finalizers": [names.ACTIVE_VERSION_FINALIZER]})
    return v.model_copy(update={"metadata": meta})


def running(service: ContainerServiceObject | None = None) -> plan.Snapshot:
    """A service whose version 1 is ACTIVE, served, and whose status says so already."""
    service = service or builders.service()
    v1 = with_finalizer(endpoint_version(1, "ACTIVE"))
    snap = served(snapshot(service, [v1]), 1)
    status = plan.new_status(snap, snap.versions_plan())
    return dataclasses.replace(snap, service=service.model_copy(update={"status": status}))


def with_version_2(steady: plan.Snapshot) -> plan.Snapshot:
    """`steady` once version 2 was applied and numbered: ACTIVATING, not served yet."""
    v2 = with_finalizer(endpoint_version(2, "ACTIVATING"))
    return dataclasses.replace(steady, versions=[*steady.versions, v2], ledger=builders.ledger(2))


def test_creating_a_service_applies_its_objects_then_says_deploying_in_status_alone() -> None:
    v1 = with_finalizer(endpoint_version(1, "ACTIVATING"))
    snap = snapshot(versions=[v1])
    after = served(snap, 1, ready=False)

    assert reconciled(snap, after) == [
        ("apply", "Deployment", SERVICE),
        ("apply", "Service", SERVICE),
        ("apply", "Ingress", SERVICE),
        ("status", "ContainerService", SERVICE, "DEPLOYING"),
    ]


def test_a_running_service_with_nothing_new_writes_nothing() -> None:
    assert reconciled(running()) == []


def test_a_new_version_rolls_the_deployment_to_it_while_the_active_one_serves() -> None:
    snap = with_version_2(running())

    writes = reconciled(snap)

    assert writes[0] == ("apply", "Deployment", SERVICE)
    assert ("status", "ContainerService", SERVICE, "DEPLOYING") in writes
    assert not [w for w in writes if w[:2] == ("status", "ContainerServiceDeployment")]


def test_a_finished_rollout_retires_the_old_version_before_activating_the_new() -> None:
    rolling = with_version_2(running())
    done = served(rolling, 2)

    writes = summary(plan.statuses(done, done.versions_plan()))

    # v1's finalizer comes off last: were v1 being deleted, it would otherwise vanish before
    # v2 and the service say so, a moment with no ACTIVE version at all.
    assert writes == [
        ("status", "ContainerServiceDeployment", "web-v1", "INACTIVE"),
        ("status", "ContainerServiceDeployment", "web-v2", "ACTIVE"),
        ("event", "Normal", "VersionActive"),
        ("status", "ContainerService", SERVICE, ["currentDeployment", "versions"]),
        ("finalizer", "ContainerServiceDeployment", "web-v1", False),
    ]
    assert ("finalizer", "ContainerServiceDeployment", "web-v2", False) not in writes


def test_a_failed_rollout_fails_the_version_and_rolls_back_to_the_active_one() -> None:
    rolling = served(with_version_2(running()), 2, ready=False)
    assert rolling.deployment is not None
    rolling.deployment["status"]["conditions"] = [
        {"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded"}
    ]

    writes = reconciled(rolling)

    deployment = next(
        w
        for w in plan.objects(rolling)
        if isinstance(w, Apply) and w.manifest["kind"] == "Deployment"
    )
    labels = deployment.manifest["spec"]["template"]["metadata"]["labels"]
    assert labels[names.VERSION_LABEL] == "1"  # back to what the ACTIVE version runs
    assert ("status", "ContainerServiceDeployment", "web-v2", "FAILED") in writes
    assert ("event", "Warning", "VersionFailed") in writes
    assert writes[0] == ("apply", "Deployment", SERVICE)
    assert [w for w in writes if w[0] == "apply"] == [writes[0]]
    # The stored ledger does not cover version 2 yet: its finalizer guards the number.
    assert ("finalizer", "ContainerServiceDeployment", "web-v2", False) not in writes


def test_scaling_changes_the_deployments_replicas_and_nothing_else_it_owns() -> None:
    steady = running()
    bigger = dataclasses.replace(
        steady,
        service=steady.service.model_copy(
            update={"spec": steady.service.spec.model_copy(update={"scale": 5})}
        ),
    )

    writes = plan.objects(bigger)

    assert summary(writes) == [("apply", "Deployment", SERVICE)]
    assert isinstance(writes[0], Apply)
    assert writes[0].manifest["spec"]["replicas"] == 5


def test_disabling_scales_to_zero_and_removes_the_ingress() -> None:
    steady = running()
    disabled = dataclasses.replace(
        steady,
        service=steady.service.model_copy(
            update={"spec": steady.service.spec.model_copy(update={"is_disabled": True})}
        ),
    )

    writes = plan.objects(disabled)

    assert summary(writes) == [("apply", "Deployment", SERVICE), ("delete", "Ingress", SERVICE)]
    assert isinstance(writes[0], Apply)
    assert writes[0].manifest["spec"]["replicas"] == 0


def announced(writes: list[Write]) -> list[str]:
    return [w[2] for w in summary(writes) if w[0] == "event"]


def with_status_of(snap: plan.Snapshot) -> plan.Snapshot:
    """`snap` once the status it plans was written."""
    status = plan.new_status(snap, snap.versions_plan())
    return dataclasses.replace(snap, service=snap.service.model_copy(update={"status": status}))


def test_events_announce_a_version_active_and_running_and_nothing_status_alone_says() -> None:
    v1 = with_finalizer(endpoint_version(1, "ACTIVATING"))
    deploying = with_status_of(served(snapshot(versions=[v1]), 1, ready=False))
    assert deploying.service.status.state == "DEPLOYING"
    done = served(deploying, 1)
    assert announced(plan.statuses(done, done.versions_plan())) == ["VersionActive", "StateRunning"]

    # A second version: ACTIVATING, then the first INACTIVE, in status alone.
    rolling = with_status_of(served(with_version_2(running()), 2, ready=False))
    assert announced(plan.statuses(rolling, rolling.versions_plan())) == []
    finished = served(rolling, 2)
    assert announced(plan.statuses(finished, finished.versions_plan())) == [
        "VersionActive",
        "StateRunning",
    ]

    steady = running()
    disabled = dataclasses.replace(
        steady,
        service=steady.service.model_copy(
            update={"spec": steady.service.spec.model_copy(update={"is_disabled": True})}
        ),
    )
    writes = plan.statuses(disabled, disabled.versions_plan())
    assert ("status", "ContainerService", SERVICE, "DISABLED") in summary(writes)
    assert announced(writes) == []


def test_a_rollouts_progress_waits_for_its_end_unless_it_takes_longer_than_the_hold() -> None:
    v1 = with_finalizer(endpoint_version(1, "ACTIVATING"))
    pods_up = served(snapshot(versions=[v1]), 1, ready=False)
    assert pods_up.deployment is not None
    # Taken up by its controller, no pod made yet.
    applied = {**pods_up.deployment, "status": {"observedGeneration": 1}}
    started = with_status_of(dataclasses.replace(pods_up, deployment=applied, pods=[]))
    assert started.service.status.state == "DEPLOYING"
    # The Deployment's pods came up, not healthy yet: the same state, another stateDetail.
    progressed = dataclasses.replace(started, deployment=pods_up.deployment, pods=pods_up.pods)
    assert plan.new_status(progressed, progressed.versions_plan()).state_detail != (
        started.service.status.state_detail
    )

    assert reconciled(progressed) == []
    later = dataclasses.replace(progressed, now=NOW + timedelta(seconds=progress.HOLD_SECONDS))
    progress_only = ["conditions", "replicas", "stateDetail"]
    assert reconciled(later) == [("status", "ContainerService", SERVICE, progress_only)]


def test_deleting_says_so_once_and_releases_every_versions_finalizer() -> None:
    service = builders.service(deleting=True)
    v1 = with_finalizer(endpoint_version(1, "ACTIVE"))
    v2 = endpoint_version(2, "INACTIVE")
    snap = snapshot(service, [v1, v2])

    assert summary(plan.deletion(snap)) == [
        ("status", "ContainerService", SERVICE, "DELETING"),
        ("finalizer", "ContainerServiceDeployment", "web-v1", False),
    ]
    already = dataclasses.replace(
        snap, service=service.model_copy(update={"status": plan.service_status.deleting()})
    )
    assert summary(plan.deletion(already)) == [
        ("finalizer", "ContainerServiceDeployment", "web-v1", False)
    ]


def test_a_domain_held_by_another_service_is_left_out_of_the_ingress_and_warned_about() -> None:
    steady = running(builders.service(domains=DOMAINS))
    conflict = "www.example.com is already claimed by another service (DomainClaim public-1)"
    network = Network(
        private_domain="web.service.local",
        admitted_domains={"shop-cert": ["shop.example.com"]},
        conflicts={"www.example.com": conflict},
    )
    snap = dataclasses.replace(steady, network=network)

    objects = plan.objects(snap)
    writes = summary(plan.statuses(snap, snap.versions_plan()))

    ingress = next(w.manifest for w in objects if isinstance(w, Apply))
    hosts = [rule["host"] for rule in ingress["spec"]["rules"]]
    assert "www.example.com" not in hosts and "shop.example.com" in hosts
    assert writes[0][:3] == ("status", "ContainerService", SERVICE)
    assert [w for w in writes if w[:2] == ("event", "Warning")] == [
        ("event", "Warning", "DomainConflict")
    ]


def test_an_owned_object_the_api_server_refused_is_a_condition_and_one_warning() -> None:
    steady = running()
    refused = dataclasses.replace(
        steady, refused={"Deployment web": "admission webhook denied the request"}
    )

    writes = plan.statuses(refused, refused.versions_plan())

    assert summary(writes) == [
        ("status", "ContainerService", SERVICE, ["conditions"]),
        ("event", "Warning", "WriteRefused"),
    ]


def test_an_active_version_being_deleted_is_kept_and_warned_about_once() -> None:
    steady = running()
    v1 = steady.versions[0]
    deleting = v1.model_copy(
        update={"metadata": v1.metadata.model_copy(update={"deletion_timestamp": NOW})}
    )
    snap = dataclasses.replace(steady, versions=[deleting])

    first = summary(plan.statuses(snap, snap.versions_plan()))
    warned = dataclasses.replace(snap, warned=frozenset(plan.protected(snap, snap.versions_plan())))

    assert first == [("event", "Warning", "ActiveVersionProtected")]
    assert summary(plan.statuses(warned, warned.versions_plan())) == []


@pytest.mark.parametrize("state", ["INACTIVE", "FAILED"])
def test_past_fifty_versions_the_oldest_settled_ones_are_deleted(state: str) -> None:
    steady = running()
    old = [endpoint_version(n, state) for n in range(2, 53)]
    active = with_finalizer(endpoint_version(53, "ACTIVE"))
    snap = dataclasses.replace(steady, versions=[*old, active], ledger=builders.ledger(53))

    deletes = [w for w in plan.statuses(snap, snap.versions_plan()) if isinstance(w, Delete)]

    assert [d.key[1] for d in deletes] == ["web-v2", "web-v3"]


def test_a_version_state_patch_carries_its_generation_and_kstatus_conditions() -> None:
    rolling = with_version_2(running())
    done = served(rolling, 2)

    patches = {
        w.key[1]: w.patch["status"]
        for w in plan.statuses(done, done.versions_plan())
        if isinstance(w, Patch) and w.resource == resources.VERSION
    }

    active = {c["type"]: c["status"] for c in patches["web-v2"]["conditions"]}
    assert active == {"Ready": "True", "Reconciling": "False", "Stalled": "False"}
    assert patches["web-v2"]["observedGeneration"] == rolling.versions[-1].metadata.generation


def test_a_version_an_older_berth_left_without_conditions_gets_them_once_without_an_event() -> None:
    steady = running()
    v1 = steady.versions[0]
    old = v1.model_copy(
        update={"status": v1.status.model_copy(update={"observed_generation": None})}
    )
    snap = dataclasses.replace(steady, versions=[old])

    writes = plan.statuses(snap, snap.versions_plan())

    assert summary(writes) == [("status", "ContainerServiceDeployment", "web-v1", "ACTIVE")]
    assert isinstance(writes[0], Patch)
    assert "activatedAt" not in writes[0].patch["status"]
