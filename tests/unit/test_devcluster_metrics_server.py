"""devcluster/metrics_server.py: metrics.k8s.io behind the aggregation layer, served from the host."""

from __future__ import annotations

import pathlib

from devcluster import components
from devcluster.addresses import BRIDGE_IP
from devcluster.certs import CertPaths
from devcluster.metrics_server import API_SERVICE, NAMESPACE, argv, manifests


def test_the_api_service_reaches_the_host_process_through_a_service_endpoint_on_the_bridge() -> (
    None
):
    service, endpoints, registration = manifests(4443, b"CA")

    assert registration["metadata"]["name"] == API_SERVICE
    target = registration["spec"]["service"]
    assert (target["namespace"], target["name"]) == (NAMESPACE, service["metadata"]["name"])
    (port,) = service["spec"]["ports"]
    assert target["port"] == port["port"]
    assert "selector" not in service["spec"]  # nothing but our EndpointSlice may fill it
    assert endpoints["metadata"]["labels"]["kubernetes.io/service-name"] == "metrics-server"
    assert endpoints["endpoints"][0]["addresses"] == [BRIDGE_IP]
    assert endpoints["ports"] == [{"name": port["name"], "port": 4443, "protocol": "TCP"}]
    assert registration["spec"]["caBundle"] == "Q0E="


def test_metrics_server_listens_on_the_bridge_and_reads_the_kubelet_on_its_own_port() -> None:
    certs = CertPaths.in_dir(pathlib.Path("/pki"))
    command = argv(pathlib.Path("/bin/ms"), pathlib.Path("/kc"), certs, pathlib.Path("/w"), 4443)

    assert f"--bind-address={BRIDGE_IP}" in command
    assert "--secure-port=4443" in command
    assert "--kubelet-use-node-status-port" in command
    assert f"--kubelet-client-certificate={certs.admin_cert}" in command


def test_the_api_server_proxies_to_aggregated_apis_as_the_front_proxy_client() -> None:
    certs = CertPaths.in_dir(pathlib.Path("/pki"))
    layout = components.Layout(
        bin_dir=pathlib.Path("/bin"),
        data_dir=pathlib.Path("/data"),
        certs=certs,
        kubeconfig=pathlib.Path("/kc"),
        kwok_config=pathlib.Path("/kwok"),
        ports=components.Ports(1, 2, 3, 4, 5),
    )

    flags = components.kube_apiserver(layout)

    assert f"--proxy-client-cert-file={certs.front_proxy_cert}" in flags
    assert "--requestheader-allowed-names=front-proxy-client" in flags
    assert "--enable-aggregator-routing=true" in flags
