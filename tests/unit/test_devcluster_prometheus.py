"""devcluster/prometheus.py: Prometheus beside the real node, reading the kubelet as its own user."""

from __future__ import annotations

import pathlib

import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from devcluster.certs import CertPaths, issue_client_pair, write_certs
from devcluster.components import LOOPBACK
from devcluster.prometheus import JOB, USER, argv, rbac, scrape_config


def test_the_one_job_reads_the_kubelets_cadvisor_over_https_with_the_client_pair() -> None:
    config = scrape_config("10.1.2.3:10250", "berth-node", pathlib.Path("/w"))

    (job,) = config["scrape_configs"]
    assert (job["job_name"], job["scheme"], job["metrics_path"]) == (
        JOB,
        "https",
        "/metrics/cadvisor",
    )
    assert job["static_configs"] == [
        {"targets": ["10.1.2.3:10250"], "labels": {"node": "berth-node"}}
    ]
    assert (job["tls_config"]["cert_file"], job["tls_config"]["key_file"]) == (
        "/w/client.crt",
        "/w/client.key",
    )
    # Prometheus refuses a scrape timeout longer than the interval.
    assert config["global"]["scrape_timeout"] <= config["global"]["scrape_interval"]


def test_it_listens_on_loopback_only_and_keeps_its_data_in_its_folder() -> None:
    command = argv(pathlib.Path("/bin/prometheus"), pathlib.Path("/w"), 9090)

    assert f"--web.listen-address={LOOPBACK}:9090" in command
    assert "--storage.tsdb.path=/w/data" in command
    assert "--config.file=/w/prometheus.yml" in command


def test_its_user_may_read_node_metrics_and_nothing_else() -> None:
    role, binding = rbac()

    assert role["rules"] == [{"apiGroups": [""], "resources": ["nodes/metrics"], "verbs": ["get"]}]
    assert binding["roleRef"]["name"] == role["metadata"]["name"]
    assert binding["subjects"] == [
        {"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": USER}
    ]


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> CertPaths:
    return write_certs(tmp_path_factory.mktemp("pki"))


def test_the_client_pair_is_the_user_alone_signed_by_the_cluster_ca(
    certs: CertPaths, tmp_path: pathlib.Path
) -> None:
    issue_client_pair(certs, tmp_path / "c.crt", tmp_path / "c.key", USER)

    cert = x509.load_pem_x509_certificate((tmp_path / "c.crt").read_bytes())
    cert.verify_directly_issued_by(x509.load_pem_x509_certificate(certs.ca_cert.read_bytes()))
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == USER
    assert cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME) == []  # no group
    usage = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(usage) == [ExtendedKeyUsageOID.CLIENT_AUTH]
    assert (tmp_path / "c.key").stat().st_mode & 0o077 == 0
