"""The registry of registered images: CNCF Distribution as a host process on the node's bridge,
TLS from the data plane's CA, storage in the cluster's folder, and token auth: Berth's token
service (`python -m berth.registry_auth`, a second child) turns registry logins into tokens for one
namespace's repositories; and what tells the node's containerd to trust it (a hosts.toml).
"""

from __future__ import annotations

import base64
import json
import pathlib
import secrets
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request

import yaml

from berth.oci.distribution import Credentials
from berth.registry_auth import logins
from berth.registry_auth.tokens import Signer, generate_key_pem
from devcluster.binaries import devcluster_dir
from devcluster.certs import issue_serving_pair
from devcluster.processes import OwnedChild, spawn

LOGIN_SECRET = "berth-registry"
TOKEN_SERVICE = "berth-registry"  # the tokens' audience, the registry's `service`
TOKEN_ISSUER = "berth"
READY_SECONDS = 30.0


def ensure_registry(devcluster: pathlib.Path | None = None) -> pathlib.Path:
    """Runs devcluster/registry/build.sh (instant once built). Returns the folder of `registry`."""
    script = (devcluster or devcluster_dir()) / "registry" / "build.sh"
    result = subprocess.run(["bash", str(script)], check=True, stdout=subprocess.PIPE, text=True)
    bin_dir = pathlib.Path(result.stdout.strip().splitlines()[-1])
    if not (bin_dir / "registry").is_file():
        raise FileNotFoundError(f"{script} did not produce registry in {bin_dir}")
    return bin_dir


def registry_config(
    address: str,
    port: int,
    storage: pathlib.Path,
    token: tuple[str, pathlib.Path],
    tls: tuple[str, str],
) -> dict[str, object]:
    """Distribution's configuration: token auth (`token` is the realm and the JWKS file), deletes
    allowed (DeleteContainerImage removes manifests; `garbage-collect` then reclaims their
    blobs), no redirects, no cache to go stale."""
    cert, key = tls
    realm, jwks = token
    return {
        "version": 0.1,
        "log": {"level": "info", "formatter": "text"},
        "storage": {
            "filesystem": {"rootdirectory": str(storage)},
            "delete": {"enabled": True},
            "redirect": {"disable": True},
            "maintenance": {"uploadpurging": {"enabled": False}},
        },
        "auth": {
            "token": {
                "realm": realm,
                "service": TOKEN_SERVICE,
                "issuer": TOKEN_ISSUER,
                "jwks": str(jwks),
                # the one algorithm Berth signs with: no other is accepted
                "signingalgorithms": ["EdDSA"],
            }
        },
        "http": {
            "addr": f"{address}:{port}",
            "secret": secrets.token_hex(16),
            "tls": {"certificate": cert, "key": key},
            "headers": {"X-Content-Type-Options": ["nosniff"]},
        },
    }


def hosts_toml(host: str, ca_file: pathlib.Path) -> str:
    """containerd's registry host configuration (`config_path`): HTTPS with our CA."""
    return "\n".join(
        [
            f'server = "https://{host}"',
            "",
            f'[host."https://{host}"]',
            '  capabilities = ["pull", "resolve"]',
            f'  ca = "{ca_file}"',
            "",
        ]
    )


class TokenServer(OwnedChild):
    """`python -m berth.registry_auth` on `address:port`, HTTPS with a certificate of the CA."""

    def __init__(
        self,
        work_dir: pathlib.Path,
        key_pem: str,
        ca: tuple[pathlib.Path, pathlib.Path],
        address: str,
        port: int,
    ) -> None:
        self.work_dir, self.key_pem, self.address, self.port = work_dir, key_pem, address, port
        self.ca_cert, self.ca_key = ca
        self.realm = f"https://{address}:{port}/token"

    def start(self) -> TokenServer:
        cert, key = self.work_dir / "token.crt", self.work_dir / "token.key"
        issue_serving_pair(
            self.ca_cert, self.ca_key, cert, key, "berth-registry-auth", (self.address,)
        )
        env = {
            "BERTH_REGISTRY_TOKEN_KEY": self.key_pem,
            "BERTH_REGISTRY_TOKEN_SERVICE": TOKEN_SERVICE,
            "BERTH_REGISTRY_TOKEN_ISSUER": TOKEN_ISSUER,
            "BERTH_REGISTRY_TOKEN_HOST": self.address,
            "BERTH_REGISTRY_TOKEN_PORT": str(self.port),
            "BERTH_REGISTRY_TOKEN_TLS_CERT": str(cert),
            "BERTH_REGISTRY_TOKEN_TLS_KEY": str(key),
        }
        argv = [sys.executable, "-m", "berth.registry_auth"]
        self.child = spawn("registry-auth", argv, self.work_dir, env)
        _wait_answering(self, f"https://{self.address}:{self.port}/healthz", self.ca_cert, 200)
        return self


class RegistryServer(OwnedChild):
    """`registry serve` on `address:port` with token auth, and its token service on `token_port`."""

    def __init__(
        self,
        bin_dir: pathlib.Path,
        work_dir: pathlib.Path,
        ca: tuple[pathlib.Path, pathlib.Path],
        address: str,
        port: int,
        token_port: int,
    ) -> None:
        self.bin = bin_dir / "registry"
        self.work_dir = work_dir
        self.ca_cert, self.ca_key = ca
        self.host = f"{address}:{port}"
        self.address, self.port = address, port
        self.config = work_dir / "config.yml"
        self.storage = work_dir / "storage"
        self.key_pem = generate_key_pem()
        self.tokens = TokenServer(work_dir, self.key_pem, ca, address, token_port)

    def start(self) -> RegistryServer:
        self.work_dir.mkdir(parents=True, exist_ok=True)
        cert, key = self.work_dir / "tls.crt", self.work_dir / "tls.key"
        issue_serving_pair(self.ca_cert, self.ca_key, cert, key, "berth-registry", (self.address,))
        jwks = self.work_dir / "jwks.json"
        jwks.write_text(json.dumps(Signer(self.key_pem).jwks()))
        self.tokens.start()
        config = registry_config(
            self.address, self.port, self.storage, (self.tokens.realm, jwks), (str(cert), str(key))
        )
        self.config.write_text(yaml.safe_dump(config, sort_keys=False))
        self.child = spawn("registry", [str(self.bin), "serve", str(self.config)], self.work_dir)
        # Up once /v2/ answers: 401 without a token, as a registry with token auth should.
        _wait_answering(self, f"https://{self.host}/v2/", self.ca_cert, 401)
        return self

    def check(self) -> None:
        self.tokens.check()
        super().check()

    def stop(self) -> None:
        super().stop()
        self.tokens.stop()

    def write_hosts(self, hosts_dir: pathlib.Path) -> None:
        """Tell the node's containerd (config_path = hosts_dir) to trust this registry."""
        folder = hosts_dir / self.host
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "hosts.toml").write_text(hosts_toml(self.host, self.ca_cert))

    def garbage_collect(self) -> str:
        """Reclaims the blobs no manifest names any more. Distribution wants no pushes while
        it runs, so this is for quiet moments (tests, `make run`'s shutdown), not a schedule."""
        done = subprocess.run(
            [str(self.bin), "garbage-collect", str(self.config)],
            capture_output=True,
            text=True,
            check=True,
        )
        return done.stdout

    def login(
        self,
        namespace: str,
        service: str | None = None,
        actions: tuple[str, ...] = ("pull", "push"),
    ) -> Credentials:
        """A registry login as Berth hands them out (the CLI, the endpoint, the pull secrets)."""
        key = logins.login_key(self.key_pem)
        login = logins.Login(namespace, service, actions, int(time.time()) + 3600)
        return Credentials(namespace, logins.mint(key, login))

    def login_secret(self, namespace: str) -> dict[str, object]:
        """The Secret the CLI and the Lightsail endpoint mint logins with (berth.cli.registry_login),
        and the chart's operator reads the token key from (registry.tokenSecret)."""
        values = {
            "server": self.host,
            "ca.crt": self.ca_cert.read_text(),
            "token.key": self.key_pem,
        }
        return {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": LOGIN_SECRET, "namespace": namespace},
            "type": "Opaque",
            "data": {k: base64.b64encode(v.encode()).decode() for k, v in values.items()},
        }

    def chart_values(self) -> dict[str, object]:
        return {"registry": {"server": self.host, "tokenSecret": LOGIN_SECRET}}

    def operator_env(self) -> dict[str, str]:
        """What the operator needs to resolve registered images and write each service's pull
        secret (a pull login of its own repositories), and to delete a deleted record's manifest
        (over TLS, checked against the dev CA)."""
        return {
            "BERTH_REGISTRY": self.host,
            "BERTH_REGISTRY_TOKEN_KEY": self.key_pem,
            "BERTH_REGISTRY_CA": self.ca_cert.read_text(),
        }


def _wait_answering(part: OwnedChild, url: str, ca: pathlib.Path, status: int) -> None:
    context = ssl.create_default_context(cafile=str(ca))
    deadline = time.monotonic() + READY_SECONDS
    while True:
        part.check()
        try:
            with urllib.request.urlopen(url, context=context, timeout=2) as answer:
                if answer.status == status:
                    return
        except urllib.error.HTTPError as error:
            if error.code == status:
                return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"nothing answered {url}; see the logs in {part}")
        time.sleep(0.1)
