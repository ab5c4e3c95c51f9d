"""status/rollout.py: a Deployment and its pods reduced to what version states depend on."""

from __future__ import annotations

from typing import Any

import pytest
from tests.unit import builders

from berth.handlers.events import slim_pod
from berth.render import names
from berth.status.rollout import FATAL_WAITING_REASONS, Rollout, observe

LABEL = names.VERSION_LABEL
DEADLINE = {"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded"}
PROGRESSING = {"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable"}


def counts(replicas: int, updated: int, ready: int, available: int) -> dict[str, Any]:
    return {
        "replicas": replicas,
        "updatedReplicas": updated,
        "readyReplicas": ready,
        "availableReplicas": available,
    }


def test_no_deployment_is_an_empty_rollout_that_is_neither_complete_nor_failed() -> None:
    rollout = observe(None, [], LABEL)
    assert rollout == Rollout()
    assert not rollout.complete()
    assert rollout.failure(1) is None


def test_observe_reads_template_version_and_replica_counts() -> None:
    body = builders.kube_deployment(3, replicas=4, status=counts(5, 4, 3, 2))
    rollout = observe(body, [], LABEL)
    assert rollout.exists
    assert rollout.template_version == 3
    assert (rollout.desired, rollout.replicas, rollout.updated) == (4, 5, 4)
    assert (rollout.ready, rollout.available) == (3, 2)


@pytest.mark.parametrize("label", [None, "", "v3", "latest"])
def test_a_template_without_a_numeric_version_label_has_no_version(label: str | None) -> None:
    assert observe(builders.kube_deployment(label), [], LABEL).template_version is None


def test_missing_status_counts_are_zero() -> None:
    body = builders.kube_deployment(1, observed_generation=None)
    rollout = observe(body, [], LABEL)
    assert (rollout.replicas, rollout.updated, rollout.ready, rollout.available) == (0, 0, 0, 0)


@pytest.mark.parametrize(
    ("generation", "observed", "caught_up"),
    [(5, 5, True), (5, 6, True), (5, 4, False), (5, None, False)],
)
def test_generation_is_observed_once_the_controller_caught_up(
    generation: int, observed: int | None, caught_up: bool
) -> None:
    body = builders.kube_deployment(1, generation=generation, observed_generation=observed)
    assert observe(body, [], LABEL).generation_observed is caught_up


# --- complete -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "complete"),
    [
        (counts(2, 2, 2, 2), True),
        (counts(3, 2, 2, 2), False),  # an old pod is still there
        (counts(2, 1, 2, 2), False),  # not every replica is updated
        (counts(2, 2, 2, 1), False),  # not every replica is available
        (counts(2, 2, 1, 1), False),
        (counts(0, 0, 0, 0), False),
    ],
)
def test_rollout_is_complete_only_when_every_replica_is_updated_available_and_no_old_pod_left(
    status: dict[str, Any], complete: bool
) -> None:
    body = builders.kube_deployment(2, replicas=2, status=status)
    assert observe(body, [], LABEL).complete() is complete


def test_rollout_is_not_complete_before_the_controller_observed_the_new_template() -> None:
    body = builders.kube_deployment(
        2, replicas=2, generation=6, observed_generation=5, status=counts(2, 2, 2, 2)
    )
    assert not observe(body, [], LABEL).complete()


# --- pod failures -------------------------------------------------------------------------------


@pytest.mark.parametrize("reason", ["CrashLoopBackOff", "ImagePullBackOff", "ErrImagePull"])
def test_a_pod_that_cannot_start_fails_its_version(reason: str) -> None:
    pods = [builders.pod("2", ("app", reason, "back-off 5m0s"))]
    rollout = observe(builders.kube_deployment(2), pods, LABEL)
    assert rollout.pod_failures == {2: f"container app: {reason}: back-off 5m0s"}
    assert rollout.failure(2) == f"container app: {reason}: back-off 5m0s"
    assert rollout.failure(1) is None


def test_failure_reason_without_a_message_names_container_and_reason() -> None:
    pods = [builders.pod("2", ("web", "CrashLoopBackOff", None))]
    rollout = observe(builders.kube_deployment(2), pods, LABEL)
    assert rollout.failure(2) == "container web: CrashLoopBackOff"


def test_a_crash_loop_names_the_exit_code_and_the_last_line_the_container_wrote() -> None:
    pod = builders.pod("2", ("app", "CrashLoopBackOff", "back-off 10s"))
    pod["status"]["containerStatuses"][0]["lastState"] = {
        "terminated": {"exitCode": 3, "message": "starting\nFATAL: DATABASE_URL is not set\n\n"}
    }
    rollout = observe(builders.kube_deployment(2), [pod], LABEL)
    assert rollout.failure(2) == (
        "container app: CrashLoopBackOff: back-off 10s; "
        "exit code 3, last line: FATAL: DATABASE_URL is not set"
    )


def test_a_crash_without_any_output_still_names_the_exit_code() -> None:
    pod = builders.pod("2", ("app", "CrashLoopBackOff", None))
    pod["status"]["containerStatuses"][0]["lastState"] = {"terminated": {"exitCode": 137}}
    rollout = observe(builders.kube_deployment(2), [pod], LABEL)
    assert rollout.failure(2) == "container app: CrashLoopBackOff; exit code 137"


@pytest.mark.parametrize("reason", ["ContainerCreating", "PodInitializing", None])
def test_a_pod_still_starting_fails_nothing(reason: str | None) -> None:
    pods = [builders.pod("2", ("app", reason, None))] if reason else [builders.pod("2")]
    assert observe(builders.kube_deployment(2), pods, LABEL).pod_failures == {}


def test_pod_failures_are_kept_per_version_and_the_first_one_wins() -> None:
    pods = [
        builders.pod("1", ("app", "ImagePullBackOff", None), name="p1"),
        builders.pod("2", ("app", "ContainerCreating", None), ("side", "CrashLoopBackOff", None)),
        builders.pod("2", ("app", "ErrImagePull", None), name="p3"),
    ]
    rollout = observe(builders.kube_deployment(2), pods, LABEL)
    assert rollout.pod_failures == {
        1: "container app: ImagePullBackOff",
        2: "container side: CrashLoopBackOff",
    }


@pytest.mark.parametrize("label", [None, "", "abc"])
def test_pods_without_a_numeric_version_are_ignored(label: str | None) -> None:
    pods = [builders.pod(label, ("app", "CrashLoopBackOff", None))]
    assert observe(builders.kube_deployment(2), pods, LABEL).pod_failures == {}


def test_crash_loop_and_image_pull_back_off_are_fatal() -> None:
    assert {"CrashLoopBackOff", "ImagePullBackOff"} <= FATAL_WAITING_REASONS


# --- progress deadline --------------------------------------------------------------------------


def test_progress_deadline_fails_the_version_of_the_template() -> None:
    body = builders.kube_deployment(2, conditions=[DEADLINE])
    rollout = observe(body, [], LABEL)
    assert rollout.deadline_exceeded
    assert rollout.failure(2) == "the rollout did not complete within the progress deadline"


def test_progress_deadline_does_not_fail_another_version() -> None:
    body = builders.kube_deployment(2, conditions=[DEADLINE])
    assert observe(body, [], LABEL).failure(3) is None


def test_progress_deadline_counts_only_once_the_controller_caught_up() -> None:
    # The condition is left over from the previous template until the controller looks again.
    body = builders.kube_deployment(3, generation=7, observed_generation=6, conditions=[DEADLINE])
    assert observe(body, [], LABEL).failure(3) is None


def test_a_progressing_deployment_has_no_deadline_failure() -> None:
    body = builders.kube_deployment(2, conditions=[PROGRESSING])
    rollout = observe(body, [], LABEL)
    assert not rollout.deadline_exceeded
    assert rollout.failure(2) is None


def test_pod_failures_take_precedence_over_the_deadline_message() -> None:
    pods = [builders.pod("2", ("app", "ImagePullBackOff", None))]
    rollout = observe(builders.kube_deployment(2, conditions=[DEADLINE]), pods, LABEL)
    assert rollout.failure(2) == "container app: ImagePullBackOff"


def test_the_store_keeps_enough_of_a_crashed_container_to_quote_its_last_line() -> None:
    pod = builders.pod("2", ("app", "CrashLoopBackOff", "back-off 10s"))
    pod["spec"] = {"containers": [{"name": "app", "image": "x"}]}
    pod["status"]["containerStatuses"][0].update(
        restartCount=2,
        lastState={
            "terminated": {
                "exitCode": 3,
                "message": "x" * 4000 + "\nFATAL: no db\n",
                "reason": "Error",
            }
        },
    )

    slim = slim_pod(pod)

    assert "spec" not in slim
    assert slim["status"]["containerStatuses"][0]["restartCount"] == 2
    rollout = observe(builders.kube_deployment(2), [slim], LABEL)
    assert rollout.failure(2) == (
        "container app: CrashLoopBackOff: back-off 10s; exit code 3, last line: FATAL: no db"
    )
