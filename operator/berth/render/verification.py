"""The DNS record that proves a custom domain's owner lets a service use it. Pure.

The record is a TXT record at `_berth-challenge.<domain>` (a wildcard's at its parent), whose
value is an HMAC of namespace, service and domain under a key only the operator knows. So:
- only the domain's owner can make a service eligible (only they can write the zone);
- the record names one namespace and service: another tenant's service needs its own record,
  which the owner never publishes, and cannot compute one from a record it sees;
- a record made for another Berth cluster (another key) proves nothing here;
- the same service asks for the same record after an operator restart, a lost status, or a
  delete and re-create (GitOps), since nothing random is stored per service.
TXT rather than CNAME: several values may sit at one name (two services, two clusters, an old and
a new record during a move) and a TXT record does not get in the way of the zone's other records.
"""

import base64
import hashlib
import hmac
import secrets
from typing import Any

from berth.api.domains import normalized
from berth.api.verification import ResourceRecord
from berth.render import labels

CHALLENGE_LABEL = "_berth-challenge"
VALUE_PREFIX = "berth-verify="
KEY_SECRET = "berth-domain-verification"
KEY_FIELD = "key"
KEY_BYTES = 32


def record_name(domain: str) -> str:
    """Where the record lives: a wildcard is proved at its parent, as ACME's DNS-01 does."""
    return f"{CHALLENGE_LABEL}.{normalized(domain).removeprefix('*.')}"


def token(key: bytes, namespace: str, service: str, domain: str) -> str:
    """The value that admits `domain` for `namespace`/`service` (and nothing else)."""
    # Namespaces and service names are DNS labels and domains have no '/': the message is unambiguous.
    message = f"{namespace}/{service}/{normalized(domain)}".encode()
    digest = hmac.new(key, message, hashlib.sha256).digest()[:20]
    return VALUE_PREFIX + base64.b32encode(digest).decode().lower()


def record(key: bytes, namespace: str, service: str, domain: str) -> ResourceRecord:
    return ResourceRecord(
        name=record_name(domain), type="TXT", value=token(key, namespace, service, domain)
    )


def new_key() -> bytes:
    return secrets.token_bytes(KEY_BYTES)


def key_secret(namespace: str, key: bytes) -> dict[str, Any]:
    """The Secret that keeps the key across restarts and replicas. Rotating it (deleting it)
    changes every service's record: every custom domain must then be proved again."""
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": KEY_SECRET, "namespace": namespace, "labels": dict(labels.MANAGED)},
        "type": "Opaque",
        "data": {KEY_FIELD: base64.b64encode(key).decode()},
    }


def key_of(secret: dict[str, Any]) -> bytes | None:
    """The key a Secret holds; None if it holds none (a hand-made Secret of that name)."""
    encoded = (secret.get("data") or {}).get(KEY_FIELD)
    if not encoded:
        return None
    key = base64.b64decode(encoded)
    return key if len(key) >= 16 else None
