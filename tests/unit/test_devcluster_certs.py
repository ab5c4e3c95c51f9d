"""Certificates of the embedded control plane: names, issuer, and who the admin is."""

from __future__ import annotations

import ipaddress
import pathlib

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from devcluster.certs import CertPaths, write_certs


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> CertPaths:
    return write_certs(tmp_path_factory.mktemp("pki"))


def load(path: pathlib.Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def test_serving_cert_names_loopback_and_the_kubernetes_service(certs: CertPaths) -> None:
    sans = load(certs.serving_cert).extensions.get_extension_for_class(x509.SubjectAlternativeName)
    assert {
        "localhost",
        "kubernetes",
        "kubernetes.default",
        "kubernetes.default.svc",
    } <= set(sans.value.get_values_for_type(x509.DNSName))
    ips = set(sans.value.get_values_for_type(x509.IPAddress))
    assert {ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address("10.96.0.1")} <= ips


def test_ca_signs_serving_and_admin_certs(certs: CertPaths) -> None:
    ca = load(certs.ca_cert)
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    for path in (certs.serving_cert, certs.admin_cert):
        cert = load(path)
        assert cert.issuer == ca.subject
        cert.verify_directly_issued_by(ca)  # raises if the signature does not check out


def test_admin_cert_is_a_client_cert_in_system_masters(certs: CertPaths) -> None:
    admin = load(certs.admin_cert)
    assert admin.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "berth-admin"
    groups = [a.value for a in admin.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)]
    assert groups == ["system:masters"]
    usage = admin.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(usage) == [ExtendedKeyUsageOID.CLIENT_AUTH]


def test_each_key_matches_its_certificate(certs: CertPaths) -> None:
    for cert_path, key_path in (
        (certs.ca_cert, certs.ca_key),
        (certs.serving_cert, certs.serving_key),
        (certs.admin_cert, certs.admin_key),
    ):
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
        assert isinstance(key, ec.EllipticCurvePrivateKey)
        assert load(cert_path).public_key() == key.public_key()


def test_service_account_keys_are_an_rsa_pair(certs: CertPaths) -> None:
    private = serialization.load_pem_private_key(
        certs.service_account_key.read_bytes(), password=None
    )
    public = serialization.load_pem_public_key(certs.service_account_pub.read_bytes())
    assert isinstance(private, rsa.RSAPrivateKey)
    assert public == private.public_key()


def test_private_keys_are_readable_only_by_the_owner(certs: CertPaths) -> None:
    for path in (certs.ca_key, certs.serving_key, certs.admin_key, certs.service_account_key):
        assert path.stat().st_mode & 0o077 == 0
