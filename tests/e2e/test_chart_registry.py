"""The chart's registry values (helm template; no cluster): an existing registry with one shared
pull login or with Berth's token key, and the bundled registry (Distribution with token auth, the
token service beside it, a claim, a garbage-collection CronJob) off by default."""

from __future__ import annotations

import base64
import json
import os
import pathlib
import subprocess
import sys

import pytest
import yaml
from tests.e2e.chart_support import CHART, find, helm, one, operator_container, render, run_helm

from berth.registry_auth.tokens import Signer
from berth.settings import Settings

__all__ = ["helm"]

pytestmark = pytest.mark.e2e

BUNDLED = [
    "--set", "registry.bundled.enabled=true",
    "--set", "registry.server=10.0.0.5:30500",
    "--set", "registry.bundled.tokenRealm=https://10.0.0.5:30501/token",
]  # fmt: skip


def env_refs(container: dict[str, object]) -> dict[str, tuple[str, str]]:
    """Variables read from Secrets: name → (Secret, key)."""
    found = {}
    for variable in container["env"]:  # type: ignore[attr-defined]
        ref = (variable.get("valueFrom") or {}).get("secretKeyRef")
        if ref:
            found[variable["name"]] = (ref["name"], ref["key"])
    return found


def test_by_default_there_is_no_registry_of_the_chart_s_own(helm: pathlib.Path) -> None:
    docs = render(helm)

    assert not find(docs, "Deployment", "registry")
    assert not find(docs, "PersistentVolumeClaim") and not find(docs, "CronJob")
    assert "BERTH_REGISTRY" not in {e["name"] for e in operator_container(docs)["env"]}


def test_an_existing_registry_with_the_token_key_needs_no_shared_pull_login(
    helm: pathlib.Path,
) -> None:
    keyed = render(
        helm, "--set", "registry.server=reg.example", "--set", "registry.tokenSecret=reg-key"
    )
    shared = render(
        helm, "--set", "registry.server=reg.example", "--set", "registry.pullSecret=reg-pull"
    )
    neither = run_helm(
        helm, "template", "berth", str(CHART), "--set", "registry.server=reg.example",
        check=False,
    )  # fmt: skip

    assert env_refs(operator_container(keyed)) == {
        "BERTH_REGISTRY_TOKEN_KEY": ("reg-key", "token.key"),
        "BERTH_REGISTRY_CA": ("reg-key", "ca.crt"),
    }
    assert env_refs(operator_container(shared)) == {
        "BERTH_REGISTRY_PULL_USERNAME": ("reg-pull", "username"),
        "BERTH_REGISTRY_PULL_PASSWORD": ("reg-pull", "password"),
    }
    assert neither.returncode != 0
    assert "registry.pullSecret or registry.tokenSecret is needed" in neither.stderr
    assert not find(keyed, "Deployment", "registry")


def test_the_bundled_registry_takes_berth_s_tokens_and_its_key_is_made_once(
    helm: pathlib.Path,
) -> None:
    docs = render(helm, *BUNDLED)

    [secret] = find(docs, "Secret")
    assert secret["metadata"]["name"] == "berth-registry"  # where the CLI and endpoint look
    assert secret["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"
    pem = base64.b64decode(secret["data"]["token.key"]).decode()
    Signer(pem)  # an Ed25519 key the token service can sign with
    assert base64.b64decode(secret["data"]["server"]) == b"10.0.0.5:30500"
    config = yaml.safe_load(one(docs, "ConfigMap", "registry")["data"]["config.yml"])
    settings = Settings()
    assert config["auth"] == {
        "token": {
            "realm": "https://10.0.0.5:30501/token",
            "service": settings.registry_token_service,
            "issuer": settings.registry_token_issuer,
            "jwks": "/etc/distribution/auth/jwks.json",
            "signingalgorithms": ["EdDSA"],
        }
    }
    assert config["storage"]["delete"] == {"enabled": True}
    assert env_refs(operator_container(docs))["BERTH_REGISTRY_TOKEN_KEY"] == (
        "berth-registry",
        "token.key",
    )


def test_the_bundled_pod_writes_the_jwks_from_the_key_and_serves_tokens_beside_the_registry(
    helm: pathlib.Path, tmp_path: pathlib.Path
) -> None:
    docs = render(helm, *BUNDLED)
    pod = one(docs, "Deployment", "registry")["spec"]["template"]["spec"]
    [init] = pod["initContainers"]
    registry, tokens = pod["containers"]
    pem = base64.b64decode(one(docs, "Secret")["data"]["token.key"]).decode()

    # The init container's own command, run here with the rendered key.
    jwks_file = tmp_path / "jwks.json"
    command = [sys.executable, *init["command"][1:-1], str(jwks_file)]
    subprocess.run(
        command, env={**os.environ, "BERTH_REGISTRY_TOKEN_KEY": pem}, check=True, timeout=60
    )

    assert init["image"] == tokens["image"] == operator_container(docs)["image"]
    assert init["command"][-1] == "/etc/distribution/auth/jwks.json"
    assert json.loads(jwks_file.read_text()) == Signer(pem).jwks()
    assert registry["args"] == ["serve", "/etc/distribution/config.yml"]
    assert tokens["command"] == ["python", "-m", "berth.registry_auth"]
    assert env_refs(tokens) == {"BERTH_REGISTRY_TOKEN_KEY": ("berth-registry", "token.key")}
    assert one(docs, "Deployment", "registry")["spec"]["strategy"] == {"type": "Recreate"}
    ports = {p["name"]: p["port"] for p in one(docs, "Service", "registry")["spec"]["ports"]}
    assert ports == {"registry": 5000, "token": 5001}
    assert one(docs, "PersistentVolumeClaim")["spec"]["resources"]["requests"]["storage"] == "10Gi"


def test_garbage_collection_runs_on_the_registry_s_node_and_keeps_untagged_images(
    helm: pathlib.Path,
) -> None:
    docs = render(helm, *BUNDLED)
    job = one(docs, "CronJob")["spec"]
    pod = job["jobTemplate"]["spec"]["template"]["spec"]
    registry_pod = one(docs, "Deployment", "registry")["spec"]["template"]

    [term] = pod["affinity"]["podAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
    assert term["topologyKey"] == "kubernetes.io/hostname"
    assert (
        term["labelSelector"]["matchLabels"].items() <= registry_pod["metadata"]["labels"].items()
    )
    # Berth pushes by digest: --delete-untagged would delete every registered image.
    assert pod["containers"][0]["args"] == ["garbage-collect", "/etc/distribution/config.yml"]
    claims = {
        v["persistentVolumeClaim"]["claimName"]
        for v in pod["volumes"]
        if "persistentVolumeClaim" in v
    }
    assert claims == {
        v["persistentVolumeClaim"]["claimName"]
        for v in registry_pod["spec"]["volumes"]
        if "persistentVolumeClaim" in v
    }
    assert job["concurrencyPolicy"] == "Forbid"
    never = render(helm, *BUNDLED, "--set", "registry.bundled.garbageCollectSchedule=")
    assert not find(never, "CronJob")


@pytest.mark.parametrize(
    ("missing", "complaint"),
    [("registry.server", "registry.server"), ("registry.bundled.tokenRealm", "tokenRealm")],
)
def test_the_bundled_registry_needs_its_address_and_the_token_realm(
    missing: str, complaint: str, helm: pathlib.Path
) -> None:
    result = run_helm(
        helm, "template", "berth", str(CHART), *BUNDLED, "--set", f"{missing}=", check=False
    )

    assert result.returncode != 0
    assert complaint in result.stderr
