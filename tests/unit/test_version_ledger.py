"""The version ledger's status patch: conditional, and explicit about fields it clears."""

from berth.api.service import VersionLedger
from berth.handlers.versions import ledger_patch


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
