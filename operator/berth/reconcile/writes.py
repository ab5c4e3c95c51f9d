"""The writes a plan asks for: what a reconcile decided, before anything is sent."""

from dataclasses import dataclass
from typing import Any

from berth.kube.resources import Key, Resource

Body = dict[str, Any]


@dataclass(frozen=True)
class Apply:
    """Server-side apply of an object a service owns (planned only when it differs)."""

    manifest: Body


@dataclass(frozen=True)
class Delete:
    """Delete an object, if it is still the one with `uid`."""

    resource: Resource
    key: Key
    uid: str


@dataclass(frozen=True)
class Patch:
    """A JSON merge patch, of the status subresource when `status`."""

    resource: Resource
    key: Key
    patch: Body
    status: bool = True


@dataclass(frozen=True)
class SetFinalizer:
    """Have (or not have) `finalizer`: the patch is made at send time, conditional on the
    freshest body, so a status write of ours just before cannot make it conflict."""

    resource: Resource
    key: Key
    finalizer: str
    wanted: bool


@dataclass(frozen=True)
class Emit:
    """Post an Event."""

    event: Body


Write = Apply | Delete | Patch | SetFinalizer | Emit
