"""The dev cluster's registry: its configuration and what makes the node's containerd trust it.
Pure: nothing is started."""

from __future__ import annotations

import pathlib
import tomllib

from devcluster import node_config as node
from devcluster.registry import hosts_toml, registry_config

PATHS = node.NodePaths(data_dir=pathlib.Path("/data/node"), state_dir=pathlib.Path("/run/x"))


def test_containerd_reads_registry_hosts_from_the_node_folder_at_each_pull() -> None:
    config = tomllib.loads(node.containerd_config(PATHS, pathlib.Path("/usr/lib/cni")))

    registry = config["plugins"]["io.containerd.grpc.v1.cri"]["registry"]

    assert registry == {"config_path": "/data/node/certs.d"}
    assert PATHS.registry_hosts == pathlib.Path(registry["config_path"])


def test_containerd_pulls_from_the_registry_over_https_with_the_local_ca() -> None:
    hosts = tomllib.loads(hosts_toml("10.89.0.1:5443", pathlib.Path("/plane/ca.crt")))

    assert hosts["server"] == "https://10.89.0.1:5443"
    assert hosts["host"]["https://10.89.0.1:5443"] == {
        "capabilities": ["pull", "resolve"],
        "ca": "/plane/ca.crt",
    }


def test_the_registry_serves_tls_takes_berth_s_eddsa_tokens_only_and_allows_deletes() -> None:
    config = registry_config(
        "10.89.0.1",
        5443,
        pathlib.Path("/plane/registry/storage"),
        ("https://10.89.0.1:5444/token", pathlib.Path("/plane/registry/jwks.json")),
        ("/t.crt", "/t.key"),
    )

    assert config["http"]["addr"] == "10.89.0.1:5443"  # type: ignore[index]
    assert config["http"]["tls"] == {"certificate": "/t.crt", "key": "/t.key"}  # type: ignore[index]
    assert config["auth"] == {
        "token": {
            "realm": "https://10.89.0.1:5444/token",
            "service": "berth-registry",
            "issuer": "berth",
            "jwks": "/plane/registry/jwks.json",
            "signingalgorithms": ["EdDSA"],
        }
    }
    assert config["storage"]["delete"] == {"enabled": True}  # type: ignore[index]
    assert config["storage"]["filesystem"]["rootdirectory"] == "/plane/registry/storage"  # type: ignore[index]
