"""A DNS zone the tests own (`example.test`, reserved by RFC 2606), served by real CoreDNS.

Tests publish TXT records in it as a domain's owner would at their DNS provider: the operator
then finds them with its real resolver. CoreDNS's `file` plugin reloads the file when the SOA
serial changes.
"""

from __future__ import annotations

import hashlib
import pathlib
import threading

TEST_ZONE = "example.test"
TTL_SECONDS = 1


def zone_text(zone: str, txt: dict[str, list[str]]) -> str:
    """`txt`: fully qualified name → its TXT values. Same records, same text (and serial)."""
    origin = f"{zone.rstrip('.')}."
    lines = [
        f"{name.rstrip('.')}. IN TXT {_quoted(value)}"
        for name, values in sorted(txt.items())
        for value in sorted(values)
    ]
    serial = int(hashlib.sha256("\n".join(lines).encode()).hexdigest()[:8], 16) or 1
    header = [
        f"$ORIGIN {origin}",
        f"$TTL {TTL_SECONDS}",
        f"@ IN SOA ns.{origin} hostmaster.{origin} {serial} 60 30 86400 {TTL_SECONDS}",
        f"@ IN NS ns.{origin}",
    ]
    return "\n".join(header + lines) + "\n"


def _quoted(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


class TxtZone:
    """The records of one zone file, rewritten whole (and atomically) at each change."""

    def __init__(self, zone_file: pathlib.Path, zone: str = TEST_ZONE) -> None:
        self.zone_file, self.zone = zone_file, zone
        self.records: dict[str, list[str]] = {}
        self.lock = threading.Lock()

    def text(self) -> str:
        return zone_text(self.zone, self.records)

    def set(self, name: str, *values: str) -> None:
        """`name` gets exactly `values` (none: it is removed)."""
        if not name.rstrip(".").endswith(f".{self.zone}"):
            raise ValueError(f"{name} is not in {self.zone}")
        with self.lock:
            if values:
                self.records[name.lower()] = list(values)
            else:
                self.records.pop(name.lower(), None)
            partial = self.zone_file.with_suffix(".partial")
            partial.write_text(self.text())
            partial.replace(self.zone_file)
