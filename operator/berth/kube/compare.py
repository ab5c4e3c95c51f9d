"""Is what we want already there? Compare before writing, so a quiet reconcile writes nothing."""

import hashlib
import json
from typing import Any

from berth.api import limits

APPLIED_HASH_ANNOTATION = f"{limits.GROUP}/applied-hash"


def contains(live: Any, desired: Any) -> bool:
    """Whether `live` has every field of `desired` with the same value (server defaults aside)."""
    if isinstance(desired, dict):
        return isinstance(live, dict) and all(
            key in live and contains(live[key], value) for key, value in desired.items()
        )
    if isinstance(desired, list):
        return (
            isinstance(live, list)
            and len(live) == len(desired)
            and all(contains(a, b) for a, b in zip(live, desired, strict=True))
        )
    return bool(live == desired)


def fingerprint(manifest: dict[str, Any]) -> str:
    canonical = json.dumps(manifest, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def stamped(manifest: dict[str, Any]) -> dict[str, Any]:
    """The manifest with the hash of itself, so that a field we stop sending is noticed."""
    meta = dict(manifest["metadata"])
    meta["annotations"] = {
        **meta.get("annotations", {}),
        APPLIED_HASH_ANNOTATION: fingerprint(manifest),
    }
    return {**manifest, "metadata": meta}


def up_to_date(live: dict[str, Any] | None, desired: dict[str, Any]) -> bool:
    """`desired` must be a stamped manifest."""
    return live is not None and contains(live, desired)


def merge_patch(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """The JSON merge patch (RFC 7386) that turns `old` into `new`."""
    patch: dict[str, Any] = {key: None for key in old if key not in new}
    for key, value in new.items():
        before = old.get(key)
        if isinstance(value, dict) and isinstance(before, dict):
            nested = merge_patch(before, value)
            if nested:
                patch[key] = nested
        elif value != before:
            patch[key] = value
    return patch
