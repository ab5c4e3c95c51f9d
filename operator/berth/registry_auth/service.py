"""The token service: a login in, a short-lived token for the repositories it may reach out.

GET with Basic credentials (the Docker token protocol) and POST with a password grant (the
OAuth2 form containerd tries first) give the same token; a caller without a valid login gets 401.
"""

import base64
import binascii
import urllib.parse
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from berth.registry_auth import logins, scopes
from berth.registry_auth.tokens import Signer


@dataclass(frozen=True)
class Request:
    method: str
    query: str  # the URL's query string
    authorization: str | None
    body: bytes = b""


@dataclass(frozen=True)
class TokenService:
    signer: Signer
    login_key: bytes
    issuer: str
    audience: str
    lifetime: int

    def answer(self, request: Request, now: int) -> tuple[int, dict[str, Any]]:
        params = urllib.parse.parse_qs(request.query)
        password = _basic_password(request.authorization)
        if request.method == "POST":
            form = urllib.parse.parse_qs(request.body.decode(errors="replace"))
            if (form.get("grant_type") or [""])[0] != "password":
                return 400, _error("unsupported_grant_type", "only the password grant")
            params = {**params, **form, "scope": " ".join(form.get("scope", [])).split()}
            password = (form.get("password") or [""])[0]
        login = logins.verify(self.login_key, password, now) if password else None
        if login is None:
            return 401, _error("UNAUTHORIZED", "a registry login from Berth is required")
        asked = (params.get("service") or [self.audience])[0]
        if asked != self.audience:
            return 400, _error("invalid_request", f"this service issues tokens for {self.audience}")
        access = scopes.granted(login, params.get("scope", []))
        subject = f"{login.namespace}/{login.service or '*'}"
        token = self.signer.token(
            issuer=self.issuer,
            audience=self.audience,
            subject=subject,
            access=access,
            now=now,
            lifetime=self.lifetime,
        )
        issued = datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return 200, {
            "token": token,
            "access_token": token,
            "expires_in": self.lifetime,
            "issued_at": issued,
        }


def _basic_password(header: str | None) -> str:
    scheme, _, value = (header or "").partition(" ")
    if scheme.lower() != "basic":
        return ""
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return ""
    return decoded.partition(":")[2]


def _error(code: str, message: str) -> dict[str, Any]:
    return {"errors": [{"code": code, "message": message}], "error": code}
