"""Versions Berth creates or adopts carry their service's tags, like every object it owns."""

from __future__ import annotations

import json

from tests.unit import builders

from berth.render import versions

TAGS = [{"key": "team", "value": "blue"}, {"key": "cost center", "value": "R+D 42"}]


def test_an_inline_version_carries_the_services_tags() -> None:
    tagged = builders.service(tags=TAGS)
    spec = tagged.spec.model_copy(update={"deployment": builders.content()})
    service = tagged.model_copy(update={"spec": spec})
    meta = versions.inline_version(service, "web-v1", "abc")["metadata"]
    assert json.loads(meta["annotations"]["berth.dev/tags"]) == TAGS
    assert meta["labels"]["team"] == "blue"
    assert "cost center" not in meta["labels"]  # not label syntax: the annotation only
    assert meta["annotations"]["berth.dev/inline-hash"] == "abc"


def test_a_version_made_by_hand_is_adopted_with_the_services_tags() -> None:
    service = builders.service(tags=TAGS)
    meta = versions.adoption(service, "web-by-hand")["metadata"]
    assert json.loads(meta["annotations"]["berth.dev/tags"]) == TAGS
    assert meta["labels"] == {"team": "blue", "berth.dev/service": service.name}


def test_changed_tags_make_a_version_stale_and_equal_ones_current() -> None:
    service = builders.service(tags=TAGS)
    current = versions.adoption(service, "web-v1")
    assert versions.tags_current(service, current)
    retagged = builders.service(tags=[{"key": "team", "value": "red"}])
    assert not versions.tags_current(retagged, current)
    untagged = builders.service()
    assert not versions.tags_current(untagged, current)
    assert versions.tags_current(untagged, versions.adoption(untagged, "web-v1"))
