"""The registry of registered images: CNCF Distribution as a host process on the node's bridge,
TLS from the data plane's CA, htpasswd users for pushes and pulls, storage in the cluster's
folder; and what tells the node's containerd to trust it (a hosts.toml per registry host).
"""

from __future__ import annotations

import base64
import pathlib
import secrets
import ssl
import subprocess
import time
import urllib.error
import urllib.request

import yaml

from devcluster.binaries import devcluster_dir
from devcluster.certs import issue_serving_pair
from devcluster.processes import OwnedChild, spawn

PUSH_USER = "berth-push"
PULL_USER = "berth-pull"
PULL_SECRET = "berth-registry-pull"
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
    address: str, port: int, storage: pathlib.Path, htpasswd: pathlib.Path, tls: tuple[str, str]
) -> dict[str, object]:
    """Distribution's configuration: deletes allowed (DeleteContainerImage removes manifests;
    `garbage-collect` then reclaims their blobs), no redirects, no cache to go stale."""
    cert, key = tls
    return {
        "version": 0.1,
        "log": {"level": "info", "formatter": "text"},
        "storage": {
            "filesystem": {"rootdirectory": str(storage)},
            "delete": {"enabled": True},
            "redirect": {"disable": True},
            "maintenance": {"uploadpurging": {"enabled": False}},
        },
        "auth": {"htpasswd": {"realm": "berth", "path": str(htpasswd)}},
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


class RegistryServer(OwnedChild):
    """`registry serve` on `address:port`, with a push user and a pull user."""

    def __init__(
        self,
        bin_dir: pathlib.Path,
        work_dir: pathlib.Path,
        ca: tuple[pathlib.Path, pathlib.Path],
        address: str,
        port: int,
    ) -> None:
        self.bin = bin_dir / "registry"
        self.work_dir = work_dir
        self.ca_cert, self.ca_key = ca
        self.host = f"{address}:{port}"
        self.address, self.port = address, port
        self.config = work_dir / "config.yml"
        self.storage = work_dir / "storage"
        self.push_password = secrets.token_urlsafe(24)
        self.pull_password = secrets.token_urlsafe(24)

    def start(self) -> RegistryServer:
        self.work_dir.mkdir(parents=True, exist_ok=True)
        cert, key = self.work_dir / "tls.crt", self.work_dir / "tls.key"
        issue_serving_pair(self.ca_cert, self.ca_key, cert, key, "berth-registry", (self.address,))
        htpasswd = self.work_dir / "htpasswd"
        htpasswd.write_text(
            self._htpasswd(PUSH_USER, self.push_password)
            + self._htpasswd(PULL_USER, self.pull_password)
        )
        config = registry_config(
            self.address, self.port, self.storage, htpasswd, (str(cert), str(key))
        )
        self.config.write_text(yaml.safe_dump(config, sort_keys=False))
        self.child = spawn("registry", [str(self.bin), "serve", str(self.config)], self.work_dir)
        self._wait_ready()
        return self

    def _htpasswd(self, user: str, password: str) -> str:
        done = subprocess.run(
            [str(self.bin), "htpasswd", user],
            input=password + "\n",
            capture_output=True,
            text=True,
            check=True,
        )
        return done.stdout

    def _wait_ready(self) -> None:
        """Up once /v2/ answers (401 without credentials, as an htpasswd registry should)."""
        context = ssl.create_default_context(cafile=str(self.ca_cert))
        deadline = time.monotonic() + READY_SECONDS
        while True:
            self.check()
            try:
                urllib.request.urlopen(f"https://{self.host}/v2/", context=context, timeout=2)
                return
            except urllib.error.HTTPError as error:
                if error.code == 401:
                    return
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"the registry did not answer on {self.host}; see its log")
            time.sleep(0.1)

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

    def login_secret(self, namespace: str) -> dict[str, object]:
        """The Secret the CLI and the Lightsail endpoint push with (berth.cli.registry_login)."""
        values = {
            "server": self.host,
            "username": PUSH_USER,
            "password": self.push_password,
            "ca.crt": self.ca_cert.read_text(),
        }
        return {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "berth-registry", "namespace": namespace},
            "type": "Opaque",
            "data": {k: base64.b64encode(v.encode()).decode() for k, v in values.items()},
        }

    def pull_secret(self, namespace: str) -> dict[str, object]:
        """The pull credentials for the chart's `registry.pullSecret`."""
        values = {"username": PULL_USER, "password": self.pull_password}
        return {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": PULL_SECRET, "namespace": namespace},
            "type": "Opaque",
            "data": {k: base64.b64encode(v.encode()).decode() for k, v in values.items()},
        }

    def chart_values(self) -> dict[str, object]:
        return {"registry": {"server": self.host, "pullSecret": PULL_SECRET}}

    def operator_env(self) -> dict[str, str]:
        """What the operator needs to resolve registered images and let pods pull them."""
        return {
            "BERTH_REGISTRY": self.host,
            "BERTH_REGISTRY_PULL_USERNAME": PULL_USER,
            "BERTH_REGISTRY_PULL_PASSWORD": self.pull_password,
        }
