"""The real node's configuration files: pure functions of paths and ports."""

from __future__ import annotations

import ipaddress
import json
import pathlib
import tomllib

from devcluster import node_config as node
from devcluster.dataplane import Endpoints

PATHS = node.NodePaths(data_dir=pathlib.Path("/data/node"), state_dir=pathlib.Path("/run/x"))
PORTS = node.KubeletPorts(kubelet=10250, healthz=10248, proxy_healthz=10256, proxy_metrics=10249)
CA = pathlib.Path("/data/pki/ca.crt")


def test_containerd_keeps_everything_under_the_node_dirs_and_uses_the_built_pause_image() -> None:
    config = tomllib.loads(node.containerd_config(PATHS, pathlib.Path("/usr/lib/cni")))
    cri = config["plugins"]["io.containerd.grpc.v1.cri"]

    assert config["root"].startswith("/data/node/")
    assert config["state"].startswith("/run/x/")
    assert config["grpc"]["address"] == "/run/x/containerd.sock"
    assert cri["sandbox_image"] == "berth.local/pause:1"
    assert cri["stream_server_address"] == "127.0.0.1"
    assert cri["restrict_oom_score_adj"] is True
    assert cri["cni"] == {"bin_dir": "/usr/lib/cni", "conf_dir": "/data/node/cni"}
    assert cri["containerd"]["runtimes"]["runc"]["options"]["SystemdCgroup"] is False


def test_the_pod_network_is_one_bridge_without_masquerading() -> None:
    config = node.cni_config(PATHS)
    (bridge,) = config["plugins"]  # type: ignore[misc]

    assert bridge["type"] == "bridge" and bridge["bridge"] == node.BRIDGE
    assert bridge["ipMasq"] is False and bridge["hairpinMode"] is True
    (subnet,) = bridge["ipam"]["ranges"][0]
    assert ipaddress.ip_address(subnet["gateway"]) in ipaddress.ip_network(subnet["subnet"])
    assert bridge["ipam"]["dataDir"].startswith("/data/node/")


def test_kubelet_serves_on_the_bridge_only_and_accepts_cgroup_v1() -> None:
    config = node.kubelet_config(PATHS, PORTS, CA, node.BRIDGE_IP)

    assert config["address"] == node.BRIDGE_IP
    assert config["healthzBindAddress"] == "127.0.0.1"
    assert config["readOnlyPort"] == 0
    assert config["failCgroupV1"] is False
    assert config["cgroupRoot"] == node.CGROUP_ROOT
    assert config["authentication"]["anonymous"] == {"enabled": False}  # type: ignore[index]
    assert config["authorization"] == {"mode": "Webhook"}
    assert config["clusterDNS"] == [node.BRIDGE_IP]
    assert config["containerRuntimeEndpoint"] == "unix:///run/x/containerd.sock"
    json.dumps(config)  # written as JSON, which is YAML


def test_kube_proxy_opens_no_node_port_outside_the_bridge_and_leaves_conntrack_alone() -> None:
    config = node.kube_proxy_config(pathlib.Path("/k"), PORTS)

    assert config["mode"] == "iptables"
    assert config["hostnameOverride"] == node.NODE_NAME
    assert config["nodePortAddresses"] == [f"{node.BRIDGE_IP}/32"]
    assert str(config["metricsBindAddress"]).startswith("127.0.0.1:")
    assert str(config["healthzBindAddress"]).startswith("127.0.0.1:")
    assert config["conntrack"] == {"maxPerCore": 0, "min": 0}


def test_endpoints_say_how_to_curl_a_host_through_the_local_ingress(tmp_path: pathlib.Path) -> None:
    endpoints = Endpoints(
        http="http://127.0.0.1:8080",
        https="https://127.0.0.1:8443",
        http_port=8080,
        https_port=8443,
        ca_file="/ca.crt",
        dns="10.89.0.1:53",
    )

    assert endpoints.curl("a.example") == (
        "curl --cacert /ca.crt --resolve a.example:8443:127.0.0.1 https://a.example:8443/"
    )
    endpoints.write(tmp_path / "endpoints.json")
    written = json.loads((tmp_path / "endpoints.json").read_text())
    assert written["https_port"] == 8443 and written["ca_file"] == "/ca.crt"
