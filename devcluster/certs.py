"""Certificates and keys for the embedded control plane, written as PEM files."""

from __future__ import annotations

import dataclasses
import datetime
import ipaddress
import pathlib

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from devcluster.addresses import BRIDGE_IP, KUBERNETES_SERVICE_IP

# The apiserver takes the first address of --service-cluster-ip-range for the `kubernetes` Service.
SERVING_DNS_NAMES = (
    "localhost",
    "kubernetes",
    "kubernetes.default",
    "kubernetes.default.svc",
    "kubernetes.default.svc.cluster.local",
)
SERVING_IPS = ("127.0.0.1", KUBERNETES_SERVICE_IP, BRIDGE_IP)
ADMIN_USER = "berth-admin"
# The aggregation layer's client: the API server proxies to extension API servers (metrics-server)
# as this name, and they trust user headers only from it (--requestheader-allowed-names).
FRONT_PROXY_USER = "front-proxy-client"
ADMIN_GROUP = "system:masters"
VALIDITY = datetime.timedelta(days=365)

PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey


@dataclasses.dataclass(frozen=True)
class CertPaths:
    """Where the PEM files of one cluster live."""

    ca_cert: pathlib.Path
    ca_key: pathlib.Path
    serving_cert: pathlib.Path
    serving_key: pathlib.Path
    admin_cert: pathlib.Path
    admin_key: pathlib.Path
    service_account_key: pathlib.Path
    service_account_pub: pathlib.Path
    front_proxy_cert: pathlib.Path
    front_proxy_key: pathlib.Path

    @classmethod
    def in_dir(cls, directory: pathlib.Path) -> CertPaths:
        return cls(
            ca_cert=directory / "ca.crt",
            ca_key=directory / "ca.key",
            serving_cert=directory / "apiserver.crt",
            serving_key=directory / "apiserver.key",
            admin_cert=directory / "admin.crt",
            admin_key=directory / "admin.key",
            service_account_key=directory / "sa.key",
            service_account_pub=directory / "sa.pub",
            front_proxy_cert=directory / "front-proxy-client.crt",
            front_proxy_key=directory / "front-proxy-client.key",
        )


def write_certs(directory: pathlib.Path) -> CertPaths:
    """Creates a fresh CA, the apiserver serving pair, the admin client pair and the SA keys."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = CertPaths.in_dir(directory)
    now = datetime.datetime.now(datetime.UTC)

    ca_cert, ca_key = _new_ca("berth-devcluster-ca", now)

    serving_key = _ec_key()
    sans: list[x509.GeneralName] = [x509.DNSName(name) for name in SERVING_DNS_NAMES]
    sans += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in SERVING_IPS]
    serving_cert = _leaf(
        _name("kube-apiserver"), serving_key, ca_cert, ca_key, now, ExtendedKeyUsageOID.SERVER_AUTH
    ).add_extension(x509.SubjectAlternativeName(sans), critical=False)

    admin_key = _ec_key()
    admin_name = _name(ADMIN_USER, ADMIN_GROUP)
    admin_cert = _leaf(admin_name, admin_key, ca_cert, ca_key, now, ExtendedKeyUsageOID.CLIENT_AUTH)

    proxy_key = _ec_key()
    proxy_name = _name(FRONT_PROXY_USER)
    proxy_cert = _leaf(proxy_name, proxy_key, ca_cert, ca_key, now, ExtendedKeyUsageOID.CLIENT_AUTH)

    # Service-account tokens are signed with RS256 by default, hence RSA here.
    sa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    _write(paths.ca_cert, _cert_pem(ca_cert))
    _write(paths.ca_key, _key_pem(ca_key))
    _write(paths.serving_cert, _cert_pem(serving_cert.sign(ca_key, hashes.SHA256())))
    _write(paths.serving_key, _key_pem(serving_key))
    _write(paths.admin_cert, _cert_pem(admin_cert.sign(ca_key, hashes.SHA256())))
    _write(paths.admin_key, _key_pem(admin_key))
    _write(paths.front_proxy_cert, _cert_pem(proxy_cert.sign(ca_key, hashes.SHA256())))
    _write(paths.front_proxy_key, _key_pem(proxy_key))
    _write(paths.service_account_key, _key_pem(sa_key))
    _write(
        paths.service_account_pub,
        sa_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ),
    )
    return paths


def write_ca(cert: pathlib.Path, key: pathlib.Path, common_name: str) -> None:
    """A fresh self-signed CA (for example the one cert-manager issues public endpoints from)."""
    ca_cert, ca_key = _new_ca(common_name, datetime.datetime.now(datetime.UTC))
    cert.parent.mkdir(parents=True, exist_ok=True)
    _write(cert, _cert_pem(ca_cert))
    cert.chmod(0o644)
    _write(key, _key_pem(ca_key))


def write_serving_pair(
    ca: CertPaths,
    cert: pathlib.Path,
    key: pathlib.Path,
    common_name: str = "localhost",
    dns_names: tuple[str, ...] = ("localhost",),
) -> None:
    """A serving certificate for 127.0.0.1 and `dns_names` from the cluster's CA, for a server of
    the dev cluster's own (the Lightsail API endpoint on loopback, metrics-server)."""
    issue_serving_pair(ca.ca_cert, ca.ca_key, cert, key, common_name, ("127.0.0.1",), dns_names)


def issue_serving_pair(
    ca_cert_file: pathlib.Path,
    ca_key_file: pathlib.Path,
    cert: pathlib.Path,
    key: pathlib.Path,
    common_name: str,
    ips: tuple[str, ...],
    dns_names: tuple[str, ...] = (),
) -> None:
    """A serving certificate for `ips` and `dns_names`, signed by the CA in the two PEM files."""
    ca_cert = x509.load_pem_x509_certificate(ca_cert_file.read_bytes())
    ca_key = serialization.load_pem_private_key(ca_key_file.read_bytes(), password=None)
    assert isinstance(ca_key, ec.EllipticCurvePrivateKey)
    leaf_key = _ec_key()
    now = datetime.datetime.now(datetime.UTC)
    sans: list[x509.GeneralName] = [x509.DNSName(name) for name in dns_names]
    sans += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in ips]
    leaf = _leaf(
        _name(common_name), leaf_key, ca_cert, ca_key, now, ExtendedKeyUsageOID.SERVER_AUTH
    )
    leaf = leaf.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    cert.parent.mkdir(parents=True, exist_ok=True)
    _write(cert, _cert_pem(leaf.sign(ca_key, hashes.SHA256())))
    _write(key, _key_pem(leaf_key))


def issue_client_pair(ca: CertPaths, cert: pathlib.Path, key: pathlib.Path, user: str) -> None:
    """A client certificate for `user` (no group) from the cluster's CA: an identity that RBAC
    grants only what a component of the dev cluster needs (Prometheus reading the kubelet)."""
    ca_cert = x509.load_pem_x509_certificate(ca.ca_cert.read_bytes())
    ca_key = serialization.load_pem_private_key(ca.ca_key.read_bytes(), password=None)
    assert isinstance(ca_key, ec.EllipticCurvePrivateKey)
    leaf_key = _ec_key()
    now = datetime.datetime.now(datetime.UTC)
    leaf = _leaf(_name(user), leaf_key, ca_cert, ca_key, now, ExtendedKeyUsageOID.CLIENT_AUTH)
    cert.parent.mkdir(parents=True, exist_ok=True)
    _write(cert, _cert_pem(leaf.sign(ca_key, hashes.SHA256())))
    _write(key, _key_pem(leaf_key))


def _new_ca(
    common_name: str, now: datetime.datetime
) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    ca_key = _ec_key()
    ca_name = _name(common_name)
    ca_cert = (
        _builder(ca_name, ca_name, ca_key, now)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(_key_usage(cert_sign=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    return ca_cert, ca_key


def _ec_key() -> ec.EllipticCurvePrivateKey:
    # P-256 keys are generated in microseconds; RSA would cost a noticeable part of start-up.
    return ec.generate_private_key(ec.SECP256R1())


def _name(common_name: str, organization: str | None = None) -> x509.Name:
    attributes = [x509.NameAttribute(NameOID.COMMON_NAME, common_name)]
    if organization:
        attributes.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization))
    return x509.Name(attributes)


def _builder(
    subject: x509.Name,
    issuer: x509.Name,
    key: PrivateKey,
    now: datetime.datetime,
) -> x509.CertificateBuilder:
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        # Clocks of the components may be a little behind the one that signed.
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + VALIDITY)
    )


def _leaf(
    subject: x509.Name,
    key: PrivateKey,
    ca_cert: x509.Certificate,
    ca_key: ec.EllipticCurvePrivateKey,
    now: datetime.datetime,
    usage: x509.ObjectIdentifier,
) -> x509.CertificateBuilder:
    return (
        _builder(subject, ca_cert.subject, key, now)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(cert_sign=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
    )


def _key_usage(*, cert_sign: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=not cert_sign,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=cert_sign,
        crl_sign=cert_sign,
        encipher_only=False,
        decipher_only=False,
    )


def _cert_pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _key_pem(key: PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _write(path: pathlib.Path, data: bytes) -> None:
    path.write_bytes(data)
    path.chmod(0o600)
