"""Labels and annotations of owned objects: standard labels, selector, tags."""

import json
import re

from berth.api import foreign
from berth.api.common import Tag
from berth.render import names

_LABEL_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9]$")
_LABEL_PREFIX = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?$")


MANAGED = {foreign.MANAGED_BY_LABEL: "berth"}


def selector_string(labels: dict[str, str]) -> str:
    """`labels` as a label selector: `k=v,k2=v2`."""
    return ",".join(f"{key}={value}" for key, value in labels.items())


# Every object Berth creates carries MANAGED: its informers follow only these.
MANAGED_SELECTOR = selector_string(MANAGED)


def service_selector(service: str) -> str:
    """The label selector of a service's pods."""
    return selector_string(selector(service))


def selector(service: str) -> dict[str, str]:
    """Labels that select the pods of a service; never change them (selectors are immutable)."""
    return {names.SERVICE_LABEL: service}


def standard(service: str) -> dict[str, str]:
    return {
        foreign.NAME_LABEL: service,
        **MANAGED,
        **selector(service),
    }


def is_label_key(key: str) -> bool:
    prefix, slash, name = key.rpartition("/")
    if slash and (not prefix or len(prefix) > 253 or not _LABEL_PREFIX.match(prefix)):
        return False
    return bool(_LABEL_NAME.match(name))


def is_label_value(value: str) -> bool:
    return len(value) <= 63 and bool(_LABEL_VALUE.match(value))


def tag_labels(tags: list[Tag] | None) -> dict[str, str]:
    """Tags whose key and value are valid label syntax, as labels (never overriding Berth's)."""
    reserved = {foreign.NAME_LABEL, foreign.MANAGED_BY_LABEL, names.SERVICE_LABEL}
    return {
        tag.key: tag.value
        for tag in tags or []
        if tag.key not in reserved and is_label_key(tag.key) and is_label_value(tag.value)
    }


def tag_annotations(tags: list[Tag] | None) -> dict[str, str]:
    """All tags as one JSON annotation, in Lightsail's [{key, value}] shape."""
    if not tags:
        return {}
    return {names.TAGS_ANNOTATION: json.dumps([t.to_wire() for t in tags], separators=(",", ":"))}


def object_labels(service: str, tags: list[Tag] | None) -> dict[str, str]:
    return {**tag_labels(tags), **standard(service)}
