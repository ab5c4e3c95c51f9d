"""Defaults the spec names, stated here rather than read from the code that sets them."""

from __future__ import annotations

import pytest

from berth.handlers.lifecycle import resources_mode_for
from berth.settings import ResourcesMode, Settings


@pytest.fixture
def defaults(monkeypatch: pytest.MonkeyPatch) -> Settings:
    for name in ("BERTH_PROGRESS_DEADLINE_SECONDS", "BERTH_RESOURCES_MODE"):
        monkeypatch.delenv(name, raising=False)
    return Settings()


def test_the_progress_deadline_is_600_seconds_by_default(defaults: Settings) -> None:
    assert defaults.progress_deadline_seconds == 600


def test_resources_follow_the_api_servers_version_by_default(defaults: Settings) -> None:
    assert defaults.resources_mode == ResourcesMode.AUTO


@pytest.mark.parametrize(
    ("version", "mode"),
    [
        ({"major": "1", "minor": "33"}, ResourcesMode.CONTAINER),
        ({"major": "1", "minor": "33+"}, ResourcesMode.CONTAINER),
        ({"major": "1", "minor": "34"}, ResourcesMode.POD),  # PodLevelResources beta, on
        ({"major": "1", "minor": "34+"}, ResourcesMode.POD),
        ({"major": "1", "minor": "36"}, ResourcesMode.POD),
        ({"major": "2", "minor": "0"}, ResourcesMode.POD),
        ({"major": "1", "minor": "9"}, ResourcesMode.CONTAINER),
    ],
)
def test_pod_level_resources_from_kubernetes_1_34_else_split_across_containers(
    version: dict[str, str], mode: ResourcesMode
) -> None:
    assert resources_mode_for(version) == mode
