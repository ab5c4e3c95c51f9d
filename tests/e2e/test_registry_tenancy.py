"""The registry's tenancy against the real Distribution (devcluster/registry, token auth) and
Berth's real token service, both on loopback; no cluster. A namespace's login reaches its own
repositories only, a service's pull login pulls and nothing more, a token signed by any other key
is refused; a deleted manifest is gone (404) and garbage collection reclaims its blobs."""

from __future__ import annotations

import os
import pathlib
import ssl
import time
import urllib.error
import urllib.request

import pytest

from berth.oci.distribution import Credentials, Registry, RegistryError
from berth.oci.layout import oci_archive
from berth.registry_auth.tokens import Signer, generate_key_pem
from devcluster.oci import ImageConfig, Regular, build_image
from devcluster.registry import TOKEN_ISSUER, TOKEN_SERVICE, RegistryServer

pytestmark = pytest.mark.e2e

PAD = 2 << 20  # the deleted image's own layer: what garbage collection must reclaim


def client(registry: RegistryServer, credentials: Credentials | None) -> Registry:
    return Registry(registry.host, credentials, str(registry.ca_cert))


def push(
    registry: RegistryServer,
    credentials: Credentials,
    repository: str,
    tmp: pathlib.Path,
    pad: int = 0,
) -> str:
    """A one-file image of its own (random content), pushed; its manifest digest."""
    files = {
        "/hello": Regular(os.urandom(64)),
        **({"/pad": Regular(os.urandom(pad))} if pad else {}),
    }
    built = build_image("berth.local/tenancy:1", files, ImageConfig(entrypoint=("/hello",)))
    archive = tmp / f"{built.manifest_digest[7:19]}.tar"
    archive.write_bytes(built.archive)
    with oci_archive(archive, None) as image:
        return client(registry, credentials).push(repository, image)


def status_of(error: RegistryError) -> int:
    """The HTTP status in the client's message, `METHOD URL: STATUS details`."""
    return int(str(error).split(": ", 1)[1].split()[0])


def test_a_namespace_login_pushes_and_pulls_its_own_repositories_only(
    registry: RegistryServer, tmp_path: pathlib.Path
) -> None:
    shop, bank = registry.login("shop"), registry.login("bank")
    bank_digest = push(registry, bank, "bank/web/site", tmp_path)

    shop_digest = push(registry, shop, "shop/web/site", tmp_path)
    with pytest.raises(RegistryError) as pushed:
        push(registry, shop, "bank/web/site", tmp_path)
    with pytest.raises(RegistryError) as pulled:
        client(registry, shop).manifest("bank/web/site", bank_digest)
    with pytest.raises(RegistryError) as deleted:
        client(registry, shop).delete_manifest("bank/web/site", bank_digest)

    assert client(registry, shop).has_manifest("shop/web/site", shop_digest)
    assert [status_of(e.value) for e in (pushed, pulled, deleted)] == [401, 401, 401]
    assert "insufficient_scope" in str(pulled.value) or "UNAUTHORIZED" in str(pulled.value)
    assert client(registry, bank).has_manifest("bank/web/site", bank_digest)


def test_a_service_pull_login_pulls_its_service_and_nothing_else(
    registry: RegistryServer, tmp_path: pathlib.Path
) -> None:
    owner = registry.login("shop")
    web = push(registry, owner, "shop/web/site", tmp_path)
    api = push(registry, owner, "shop/api/site", tmp_path)
    pulls_web = registry.login("shop", "web", ("pull",))

    body, _ = client(registry, pulls_web).manifest("shop/web/site", web)
    with pytest.raises(RegistryError) as other_service:
        client(registry, pulls_web).manifest("shop/api/site", api)
    with pytest.raises(RegistryError) as pushed:
        push(registry, pulls_web, "shop/web/site", tmp_path)
    with pytest.raises(RegistryError) as deleted:
        client(registry, pulls_web).delete_manifest("shop/web/site", web)

    assert body
    assert [status_of(e.value) for e in (other_service, pushed, deleted)] == [401, 401, 401]


def test_without_a_berth_login_there_is_no_token_and_a_foreign_token_is_refused(
    registry: RegistryServer, tmp_path: pathlib.Path
) -> None:
    digest = push(registry, registry.login("shop"), "shop/web/site", tmp_path)
    forged = Signer(generate_key_pem()).token(
        issuer=TOKEN_ISSUER,
        audience=TOKEN_SERVICE,
        subject="mallory",
        access=[{"type": "repository", "name": "shop/web/site", "actions": ["pull"]}],
        now=int(time.time()),
        lifetime=300,
    )
    request = urllib.request.Request(
        f"https://{registry.host}/v2/shop/web/site/manifests/{digest}",
        headers={"Authorization": f"Bearer {forged}"},
    )

    with pytest.raises(RegistryError, match="cannot get a token"):
        client(registry, Credentials("shop", "a guessed password")).manifest(
            "shop/web/site", digest
        )
    with pytest.raises(RegistryError, match="cannot get a token"):
        client(registry, None).manifest("shop/web/site", digest)
    with pytest.raises(urllib.error.HTTPError) as refused:
        context = ssl.create_default_context(cafile=str(registry.ca_cert))
        urllib.request.urlopen(request, context=context, timeout=10)
    assert refused.value.code == 401
    assert 'error="invalid_token"' in refused.value.headers["Www-Authenticate"]


def test_a_deleted_manifest_is_gone_and_garbage_collection_reclaims_its_blobs(
    registry: RegistryServer, tmp_path: pathlib.Path
) -> None:
    owner = registry.login("gc")
    kept = push(registry, owner, "gc/web/site", tmp_path)
    dropped = push(registry, owner, "gc/web/site", tmp_path, pad=PAD)

    assert client(registry, owner).delete_manifest("gc/web/site", dropped)
    before = storage_bytes(registry.storage)
    began = time.monotonic()
    registry.garbage_collect()
    took = time.monotonic() - began
    reclaimed = before - storage_bytes(registry.storage)
    print(f"registry garbage-collect: {reclaimed} bytes reclaimed in {took:.2f}s")

    assert not client(registry, owner).has_manifest("gc/web/site", dropped)
    assert client(registry, owner).has_manifest("gc/web/site", kept)
    assert reclaimed >= PAD


def storage_bytes(folder: pathlib.Path) -> int:
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())
