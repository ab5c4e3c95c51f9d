"""The version ledger: its conditional status patch, catching up after a crash, and the
finalizer that guards a number the stored ledger does not cover yet."""

import pytest
from tests.unit.builders import version

from berth.api.objects import VersionObject
from berth.api.service import VersionLedger
from berth.api.version import VersionState
from berth.reconcile.versions import caught_up
from berth.render import names
from berth.render.versions import ledger_patch
from berth.status.versions import keeps_finalizer


def test_a_ledger_patch_clears_the_previous_uid_with_an_explicit_null() -> None:
    reserved = VersionLedger(last_version=2, last_uid=None, last_name="web-v2", inline_hash="h2")

    patch = ledger_patch("41", reserved)

    assert patch["metadata"] == {"resourceVersion": "41"}
    assert patch["status"]["versions"] == {
        "lastVersion": 2,
        "lastUid": None,
        "lastName": "web-v2",
        "inlineHash": "h2",
    }


def inline(number: int, digest: str) -> VersionObject:
    plain = version(number, "ACTIVATING")
    meta = plain.metadata.model_copy(update={"annotations": {names.INLINE_ANNOTATION: digest}})
    return plain.model_copy(update={"metadata": meta})


def test_a_ledger_not_behind_any_version_is_taken_as_stored() -> None:
    stored = VersionLedger(last_version=3, last_uid="uid-web-v3", inline_hash="h3")

    assert caught_up(stored, [version(2, "INACTIVE"), inline(3, "h3")]) == stored


def test_an_inline_version_numbered_after_the_last_ledger_write_catches_the_ledger_up() -> None:
    # A crash after the version was told its number, before the status write with the ledger.
    stored = VersionLedger(last_version=1, last_uid="uid-web-v1", inline_hash="h1")

    ledger = caught_up(stored, [version(1, "ACTIVE"), inline(2, "h2")])

    assert ledger == VersionLedger(
        last_version=2, last_uid="uid-web-v2", last_name="web-v2", inline_hash="h2"
    )


def test_catching_up_keeps_the_inline_hash_when_only_other_versions_are_ahead() -> None:
    ledger = caught_up(None, [version(1, "ACTIVE", name="by-hand")])

    assert (ledger.last_version, ledger.last_name, ledger.inline_hash) == (1, "by-hand", None)


@pytest.mark.parametrize(
    ("state", "number", "stored", "keeps"),
    [
        (VersionState.ACTIVE, 1, 1, True),
        (VersionState.ACTIVATING, 2, 1, True),
        (VersionState.INACTIVE, 1, 2, False),
        (VersionState.FAILED, 2, 2, False),
        # Superseded before the ledger recorded it: deleting it could free its number.
        (VersionState.INACTIVE, 3, 2, True),
    ],
)
def test_only_serving_next_or_unrecorded_versions_keep_their_finalizer(
    state: VersionState, number: int, stored: int, keeps: bool
) -> None:
    assert keeps_finalizer(state, number, VersionLedger(last_version=stored)) is keeps
