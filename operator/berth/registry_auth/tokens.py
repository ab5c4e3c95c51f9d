"""The JSON Web Tokens Distribution's token auth verifies, signed with Ed25519 (EdDSA).

Distribution v3 trusts the keys of a JWKS file or a certificate bundle. An HMAC key (`kty: oct`)
in the JWKS would let the standard library sign, but go-jose's JSONWebKey.Public(), which
Distribution applies to every key of the file, turns a symmetric key into an empty one: such
tokens never verify. Hence an asymmetric key, and `cryptography` to sign with it.
"""

import base64
import hashlib
import json
import secrets
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def thumbprint(x: str) -> str:
    """RFC 7638's thumbprint of an Ed25519 JWK (the required members, sorted, no spaces): the
    key ID, stable for a key whoever computes it."""
    canonical = json.dumps(
        {"crv": "Ed25519", "kty": "OKP", "x": x}, sort_keys=True, separators=(",", ":")
    )
    return _b64(hashlib.sha256(canonical.encode()).digest())


def generate_key_pem() -> str:
    """A new Ed25519 private key, PKCS#8 PEM (what Helm's genPrivateKey "ed25519" writes too)."""
    return (
        Ed25519PrivateKey.generate()
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode()
    )


class Signer:
    """Signs tokens with one Ed25519 key and describes its public half as a JWKS."""

    def __init__(self, key_pem: str) -> None:
        key = serialization.load_pem_private_key(key_pem.encode(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError("the registry token key must be an Ed25519 private key (PEM)")
        self._key = key
        raw = key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        self._x = _b64(raw)
        self.kid = thumbprint(self._x)

    def jwks(self) -> dict[str, Any]:
        """The file Distribution's `auth.token.jwks` names."""
        jwk = {"kty": "OKP", "crv": "Ed25519", "x": self._x, "kid": self.kid, "alg": "EdDSA"}
        return {"keys": [jwk]}

    def token(
        self,
        *,
        issuer: str,
        audience: str,
        subject: str,
        access: list[dict[str, Any]],
        now: int,
        lifetime: int,
    ) -> str:
        header = {"alg": "EdDSA", "typ": "JWT", "kid": self.kid}
        claims = {
            "iss": issuer,
            "sub": subject,
            "aud": audience,
            "iat": now,
            "nbf": now,
            "exp": now + lifetime,
            "jti": secrets.token_hex(12),
            "access": access,
        }
        signing_input = ".".join(
            _b64(json.dumps(part, separators=(",", ":")).encode()) for part in (header, claims)
        )
        signature = self._key.sign(signing_input.encode())
        return f"{signing_input}.{_b64(signature)}"
