"""Metadata patches: finalizers added or removed, conditional on what was read."""

from typing import Any

Body = dict[str, Any]


def finalizer_patch(
    finalizers: list[str], resource_version: str, finalizer: str, wanted: bool
) -> Body | None:
    """A conditional merge patch that adds or removes `finalizer`; None when nothing changes.

    Conditional (resourceVersion): a merge patch replaces the whole list, so a finalizer someone
    else added meanwhile must make the patch fail rather than vanish.
    """
    if (finalizer in finalizers) == wanted:
        return None
    changed = [*finalizers, finalizer] if wanted else [f for f in finalizers if f != finalizer]
    return {"metadata": {"finalizers": changed, "resourceVersion": resource_version}}
