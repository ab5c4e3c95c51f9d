"""Per-tenant registry access: logins, the scopes a token grants, the tokens themselves and the
token service's answers. Pure: no registry, no cluster."""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import urlencode

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from tests.unit import builders

from berth.registry_auth import logins, scopes
from berth.registry_auth.service import Request, TokenService
from berth.registry_auth.tokens import Signer, generate_key_pem, thumbprint
from berth.render import images

PEM = generate_key_pem()
KEY = logins.login_key(PEM)
NOW = 1_800_000_000


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def claims_of(token: str) -> dict[str, Any]:
    return json.loads(unb64(token.split(".")[1]))  # type: ignore[no-any-return]


def test_a_login_names_its_namespace_service_actions_and_expiry() -> None:
    login = logins.Login("shop", "web", ("pull",), NOW + 60)

    assert logins.verify(KEY, logins.mint(KEY, login), NOW) == login


def test_an_expired_altered_or_foreign_login_is_refused() -> None:
    password = logins.mint(KEY, logins.Login("shop", None, ("pull", "push"), NOW + 60))
    head, _, signature = password.split(".")
    widened = base64.urlsafe_b64encode(
        json.dumps({"ns": "bank", "svc": None, "act": ["push"]}).encode()
    ).decode()

    assert logins.verify(KEY, password, NOW + 60) is None
    assert logins.verify(KEY, f"{head}.{widened.rstrip('=')}.{signature}", NOW) is None
    assert logins.verify(logins.login_key(generate_key_pem()), password, NOW) is None
    assert logins.verify(KEY, "hunter2", NOW) is None


def test_a_namespace_login_reaches_its_own_repositories_only() -> None:
    login = logins.Login("shop", None, ("pull", "push"))

    access = scopes.granted(
        login,
        [
            "repository:shop/web/site:pull,push",
            "repository:bank/web/site:pull,push repository:shopping/web/site:pull",
            "repository:shop/web:pull",  # not a repository of Berth's shape
            "registry:catalog:*",
        ],
    )

    assert access == [{"type": "repository", "name": "shop/web/site", "actions": ["pull", "push"]}]


def test_a_pull_secret_login_pulls_its_service_and_cannot_push_or_delete() -> None:
    login = logins.Login("shop", "web", ("pull",))

    access = scopes.granted(
        login,
        ["repository:shop/web/site:pull,push,delete", "repository:shop/api/site:pull"],
    )

    assert access == [{"type": "repository", "name": "shop/web/site", "actions": ["pull"]}]


def test_a_pusher_may_delete_manifests() -> None:
    login = logins.Login("shop", None, ("push",))

    [access] = scopes.granted(login, ["repository:shop/web/site:delete"])

    assert access["actions"] == ["delete"]


def test_a_token_is_an_eddsa_jwt_its_jwks_key_verifies() -> None:
    signer = Signer(PEM)
    access = [{"type": "repository", "name": "shop/web/site", "actions": ["pull"]}]

    token = signer.token(
        issuer="berth", audience="reg", subject="shop/web", access=access, now=NOW, lifetime=300
    )

    head, body, signature = token.split(".")
    header = json.loads(unb64(head))
    [jwk] = signer.jwks()["keys"]
    assert header == {"alg": "EdDSA", "typ": "JWT", "kid": jwk["kid"]}
    Ed25519PublicKey.from_public_bytes(unb64(jwk["x"])).verify(
        unb64(signature), f"{head}.{body}".encode()
    )
    claims = claims_of(token)
    assert (claims["iss"], claims["aud"], claims["sub"]) == ("berth", "reg", "shop/web")
    assert (claims["nbf"], claims["exp"]) == (NOW, NOW + 300)
    assert claims["access"] == access


def test_the_key_id_is_the_rfc7638_thumbprint() -> None:
    # RFC 8037 appendix A.3: the thumbprint of its example Ed25519 key.
    assert (
        thumbprint("11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo")
        == "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
    )
    assert Signer(PEM).kid != Signer(generate_key_pem()).kid


def test_a_key_that_is_not_ed25519_is_refused() -> None:
    with pytest.raises(ValueError, match="Ed25519"):
        Signer(
            "-----BEGIN PRIVATE KEY-----\n"
            "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgevZzL1gdAFr88hb2\n"
            "OF/2NxApJCzGCEDdfSp6VQO30hyhRANCAAQRWz+jn65BtOMvdyHKcvjBeBSDZH2r\n"
            "1RTwjmYSi9R/zpBnuQ4EiMnCqfMPWiZqB4QdbAd0E7oH50VpuZ1P087G\n"
            "-----END PRIVATE KEY-----\n"
        )


def service() -> TokenService:
    return TokenService(Signer(PEM), KEY, "berth", "berth-registry", 300)


def basic(password: str) -> str:
    return "Basic " + base64.b64encode(f"shop:{password}".encode()).decode()


def test_the_token_service_answers_a_basic_get_with_the_login_s_scopes() -> None:
    password = logins.mint(KEY, logins.Login("shop", None, ("pull", "push"), NOW + 60))
    query = "service=berth-registry&scope=repository:shop/web/site:pull,push"
    query += "&scope=repository:bank/web/site:pull"

    status, body = service().answer(Request("GET", query, basic(password)), NOW)

    assert status == 200
    assert body["token"] == body["access_token"]
    assert body["expires_in"] == 300
    assert claims_of(body["token"])["access"] == [
        {"type": "repository", "name": "shop/web/site", "actions": ["pull", "push"]}
    ]


def test_the_token_service_answers_containerd_s_password_grant() -> None:
    password = logins.mint(KEY, logins.Login("shop", "web", ("pull",)))
    form = {
        "grant_type": "password",
        "username": "shop",
        "password": password,
        "service": "berth-registry",
        "scope": "repository:shop/web/site:pull",
        "client_id": "containerd-client",
    }
    status, body = service().answer(Request("POST", "", None, urlencode(form).encode()), NOW)

    assert status == 200
    assert claims_of(body["access_token"])["access"][0]["name"] == "shop/web/site"


@pytest.mark.parametrize(
    "authorization", [None, "Basic " + base64.b64encode(b"berth-push:secret").decode(), "Bearer x"]
)
def test_the_token_service_refuses_anyone_without_a_berth_login(authorization: str | None) -> None:
    status, body = service().answer(
        Request("GET", "scope=repository:shop/web/site:pull", authorization), NOW
    )

    assert status == 401
    assert body["errors"][0]["code"] == "UNAUTHORIZED"


def test_the_token_service_issues_for_its_own_registry_only() -> None:
    password = logins.mint(KEY, logins.Login("shop", None, ("pull",)))

    status, _ = service().answer(Request("GET", "service=elsewhere", basic(password)), NOW)

    assert status == 400


def test_with_the_token_key_each_service_pulls_with_a_login_of_its_own_repositories() -> None:
    registry = images.Registry("10.89.0.1:5443", "shared", "shared-password", KEY)

    secret = images.pull_secret(builders.service(), registry)

    config = json.loads(base64.b64decode(secret["data"][".dockerconfigjson"]))
    user, _, password = (
        base64.b64decode(config["auths"]["10.89.0.1:5443"]["auth"]).decode().partition(":")
    )
    assert user == builders.NAMESPACE
    assert logins.verify(KEY, password, NOW) == logins.Login(
        builders.NAMESPACE, builders.SERVICE, ("pull",)
    )


def test_without_the_token_key_pods_pull_with_the_shared_login() -> None:
    registry = images.Registry("10.89.0.1:5443", "shared", "shared-password")

    secret = images.pull_secret(builders.service(), registry)

    config = json.loads(base64.b64decode(secret["data"][".dockerconfigjson"]))
    assert base64.b64decode(config["auths"]["10.89.0.1:5443"]["auth"]) == b"shared:shared-password"
