"""Registry logins: a password that says which namespace (and service) it may reach, with which
actions, until when; signed with HMAC-SHA256, so only Berth's token service accepts it.

Standard library only: the operator renders pull secrets with these (render/ is pure).
"""

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass

PREFIX = "brl1"
PULL = "pull"
PUSH = "push"
ACTIONS = (PULL, PUSH)


@dataclass(frozen=True)
class Login:
    namespace: str
    service: str | None  # None: every service of the namespace
    actions: tuple[str, ...]  # of ACTIONS
    expires: int | None = None  # Unix seconds; None: until the signing key changes

    def reaches(self, repository: str) -> bool:
        """Repositories are `<namespace>/<service>/<label>` (render.names.image_repository)."""
        parts = repository.split("/")
        if len(parts) != 3 or parts[0] != self.namespace:
            return False
        return self.service is None or parts[1] == self.service


def login_key(signing_key_pem: str) -> bytes:
    """The HMAC key, derived from the token signing key so that one Secret holds both."""
    return hashlib.sha256(b"berth registry logins\0" + signing_key_pem.encode()).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def mint(key: bytes, login: Login) -> str:
    claims: dict[str, object] = {
        "ns": login.namespace,
        "svc": login.service,
        "act": list(login.actions),
    }
    if login.expires is not None:
        claims["exp"] = login.expires
    body = _b64(json.dumps(claims, sort_keys=True, separators=(",", ":")).encode())
    signature = hmac.new(key, f"{PREFIX}.{body}".encode(), hashlib.sha256).digest()
    return f"{PREFIX}.{body}.{_b64(signature)}"


def verify(key: bytes, password: str, now: int) -> Login | None:
    """The login `password` carries, or None: not one of ours, altered, or expired."""
    parts = password.split(".")
    if len(parts) != 3 or parts[0] != PREFIX:
        return None
    expected = hmac.new(key, f"{PREFIX}.{parts[1]}".encode(), hashlib.sha256).digest()
    try:
        if not hmac.compare_digest(expected, _unb64(parts[2])):
            return None
        claims = json.loads(_unb64(parts[1]))
    except ValueError:
        return None
    expires = claims.get("exp")
    if expires is not None and now >= expires:
        return None
    actions = tuple(a for a in claims.get("act") or [] if a in ACTIONS)
    return Login(str(claims["ns"]), claims.get("svc"), actions, expires)
