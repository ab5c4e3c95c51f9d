"""render/labels.py: label syntax, standard labels, and tags as labels and one annotation."""

from __future__ import annotations

import json

import pytest

from berth.api.common import Tag
from berth.render import labels


def tags(*pairs: tuple[str, str]) -> list[Tag]:
    return [Tag(key=key, value=value) for key, value in pairs]


@pytest.mark.parametrize(
    "key",
    [
        "team",
        "a",
        "A.b-c_d",
        "x" * 63,
        "example.com/team",
        "berth.dev/service",
        "a.b.c/d",
        ("a" * 253) + "/x",
    ],
)
def test_valid_label_keys(key: str) -> None:
    assert labels.is_label_key(key)


@pytest.mark.parametrize(
    "key",
    [
        "",
        "x" * 64,
        "-team",
        "team-",
        "cost center",
        "Example.com/team",  # prefixes are lowercase DNS subdomains
        "example.com/",
        "a/b/c",
        "exa_mple.com/x",
        ("a" * 254) + "/x",
        "team@home",
    ],
)
def test_invalid_label_keys(key: str) -> None:
    assert not labels.is_label_key(key)


def test_a_key_with_an_empty_prefix_is_not_a_label_key() -> None:
    assert not labels.is_label_key("/team")


def test_a_tag_with_an_empty_key_prefix_is_only_an_annotation() -> None:
    assert labels.tag_labels(tags(("/team", "a"))) == {}


@pytest.mark.parametrize("value", ["", "a", "v1.2_3-x", "x" * 63, "Gold"])
def test_valid_label_values(value: str) -> None:
    assert labels.is_label_value(value)


@pytest.mark.parametrize("value", ["x" * 64, "-a", "a-", ".a", "two words", "a/b", "a:b"])
def test_invalid_label_values(value: str) -> None:
    assert not labels.is_label_value(value)


def test_standard_labels_name_the_service_and_berth() -> None:
    assert labels.standard("web") == {
        "app.kubernetes.io/name": "web",
        "app.kubernetes.io/managed-by": "berth",
        "berth.dev/service": "web",
    }


def test_selector_is_the_service_label_only() -> None:
    assert labels.selector("web") == {"berth.dev/service": "web"}


def test_only_label_valid_tags_become_labels() -> None:
    given = tags(("team", "pay"), ("cost center", "1"), ("owner", "Jane Doe"), ("env", ""))
    assert labels.tag_labels(given) == {"team": "pay", "env": ""}


def test_no_tags_means_no_tag_labels_and_no_annotation() -> None:
    assert labels.tag_labels(None) == {}
    assert labels.tag_labels([]) == {}
    assert labels.tag_annotations(None) == {}
    assert labels.tag_annotations([]) == {}


@pytest.mark.parametrize(
    "key", ["berth.dev/service", "app.kubernetes.io/name", "app.kubernetes.io/managed-by"]
)
def test_tag_labels_never_override_berths_labels(key: str) -> None:
    assert labels.tag_labels(tags((key, "evil"))) == {}
    merged = labels.object_labels("web", tags((key, "evil"), ("team", "a")))
    assert merged == {**labels.standard("web"), "team": "a"}


def test_tags_annotation_holds_every_tag_in_lightsails_shape() -> None:
    given = tags(("team", "pay"), ("cost center", "1"), ("note", "a/b: c=d +e @f"))
    annotation = labels.tag_annotations(given)
    assert list(annotation) == ["berth.dev/tags"]
    assert json.loads(annotation["berth.dev/tags"]) == [
        {"key": "team", "value": "pay"},
        {"key": "cost center", "value": "1"},
        {"key": "note", "value": "a/b: c=d +e @f"},
    ]
