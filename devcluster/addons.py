"""Add-ons that some end-to-end tests run beside the control plane: CoreDNS and cert-manager.

Both are the real programs, built from pinned Go modules by devcluster/addons/build.sh.
"""

from __future__ import annotations

import pathlib
import socket
import subprocess

from berth.render.zone import TTL_SECONDS
from devcluster.admin import http_ok, wait_until
from devcluster.binaries import devcluster_dir
from devcluster.components import LOOPBACK
from devcluster.external import KubeCluster
from devcluster.processes import Child, OwnedChild, spawn
from devcluster.txt_zone import TxtZone

ADDONS = ("coredns", "cert-manager-controller", "cert-manager-crds")
SELF_SIGNED_ISSUER = """\
apiVersion: cert-manager.io/v1
kind: ClusterIssuer
metadata:
  name: {name}
spec:
  selfSigned: {{}}
"""


def ensure_addons(devcluster: pathlib.Path | None = None) -> pathlib.Path:
    """Runs devcluster/addons/build.sh (instant once built, minutes the first time)."""
    script = (devcluster or devcluster_dir()) / "addons" / "build.sh"
    result = subprocess.run(["bash", str(script)], check=True, stdout=subprocess.PIPE, text=True)
    bin_dir = pathlib.Path(result.stdout.strip().splitlines()[-1])
    missing = [name for name in ADDONS if not (bin_dir / name).exists()]
    if missing:
        raise FileNotFoundError(f"{script} did not produce {', '.join(missing)} in {bin_dir}")
    return bin_dir


def free_port() -> int:
    """A port free for both UDP and TCP on loopback (DNS answers on both)."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.bind((LOOPBACK, 0))
            port: int = udp.getsockname()[1]
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
                try:
                    tcp.bind((LOOPBACK, port))
                except OSError:
                    continue
                return port


CLUSTER_DOMAIN = "cluster.local"
# A record the test zone always holds (its file must exist before CoreDNS starts).
TEST_ZONE_PROBE = "_probe"


class CoreDNS(OwnedChild):
    """CoreDNS on a loopback port, serving one zone file with the `file` plugin, as in a cluster.

    In a cluster the zone ConfigMap is mounted into CoreDNS's pod; here whoever starts this
    writes the ConfigMap's text to `zone_file` (write_zone), and the plugin reloads it.
    """

    def __init__(
        self,
        bin_dir: pathlib.Path,
        work_dir: pathlib.Path,
        zone: str,
        *,
        address: str = LOOPBACK,
        port: int | None = None,
        cluster_kubeconfig: pathlib.Path | None = None,
        test_zone: str | None = None,
    ) -> None:
        self.bin_dir = bin_dir
        self.work_dir = work_dir
        self.zone = zone.rstrip(".")
        self.zone_file = work_dir / f"db.{self.zone}"
        self.address = address
        self.port = port or free_port()
        self.ready_port = free_port()
        # With a kubeconfig CoreDNS is also the cluster's DNS: `cluster.local` from the API, as
        # in any cluster (and a pod walking its search list gets NXDOMAIN, not REFUSED).
        self.cluster_kubeconfig = cluster_kubeconfig
        # A zone whose TXT records tests publish, as a domain's owner does (devcluster.txt_zone).
        self.test_zone = TxtZone(work_dir / f"db.{test_zone}", test_zone) if test_zone else None
        self.child: Child | None = None

    def corefile(self) -> str:
        blocks = [
            f"{self.zone}:{self.port} {{\n"
            f"    bind {self.address}\n"
            f"    ready {LOOPBACK}:{self.ready_port}\n"
            f"    file {self.zone_file} {self.zone} {{\n"
            # The shortest reload CoreDNS offers; a kubelet takes up to a minute to update a
            # mounted ConfigMap, so tests wait for the answer rather than for a fixed time.
            "        reload 1s\n"
            "    }\n"
            "    errors\n"
            "    log\n"
            "}\n"
        ]
        if self.test_zone is not None:
            blocks.append(
                f"{self.test_zone.zone}:{self.port} {{\n"
                f"    bind {self.address}\n"
                f"    file {self.test_zone.zone_file} {self.test_zone.zone} {{\n"
                "        reload 1s\n"
                "    }\n"
                "    errors\n"
                "    log\n"
                "}\n"
            )
        if self.cluster_kubeconfig is not None:
            blocks.append(
                f"{CLUSTER_DOMAIN}:{self.port} {{\n"
                f"    bind {self.address}\n"
                f"    kubernetes {CLUSTER_DOMAIN} {{\n"
                f"        kubeconfig {self.cluster_kubeconfig}\n"
                "        pods insecure\n"
                f"        ttl {TTL_SECONDS}\n"
                "    }\n"
                "    errors\n"
                "}\n"
            )
        return "".join(blocks)

    def write_zone(self, text: str) -> None:
        """Replace the zone file at once, so the plugin never reads half of it."""
        partial = self.zone_file.with_suffix(".partial")
        partial.write_text(text)
        partial.replace(self.zone_file)

    def start(self, initial_zone: str, timeout: float = 30.0) -> CoreDNS:
        self.work_dir.mkdir(parents=True, exist_ok=True)
        self.write_zone(initial_zone)
        if self.test_zone is not None:
            self.test_zone.set(f"{TEST_ZONE_PROBE}.{self.test_zone.zone}", "ready")
        corefile = self.work_dir / "Corefile"
        corefile.write_text(self.corefile())
        argv = [str(self.bin_dir / "coredns"), "-conf", str(corefile)]
        self.child = spawn("coredns", argv, self.work_dir)
        wait_until("CoreDNS /ready", self._ready, timeout, check=self.check)
        return self

    def _ready(self) -> bool:
        return http_ok(f"http://{LOOPBACK}:{self.ready_port}/ready")


CA_ISSUER = """\
apiVersion: cert-manager.io/v1
kind: ClusterIssuer
metadata:
  name: {name}
spec:
  ca:
    secretName: {secret}
"""
# cert-manager reads a ClusterIssuer's secret from its cluster resource namespace.
CLUSTER_RESOURCE_NAMESPACE = "kube-system"


class CertManager(OwnedChild):
    """cert-manager's CRDs, its controller against `cluster`, and a self-signed ClusterIssuer."""

    def __init__(self, cluster: KubeCluster, bin_dir: pathlib.Path, log_dir: pathlib.Path) -> None:
        self.cluster = cluster
        self.bin_dir = bin_dir
        self.log_dir = log_dir
        self.child: Child | None = None

    def install_crds(self) -> None:
        crds = str(self.bin_dir / "cert-manager-crds")
        # Server-side: the CRDs are too large for client-side apply's last-applied annotation.
        self.cluster.kubectl("apply", "--server-side", "-f", crds)
        self.cluster.kubectl("wait", "--for=condition=Established", "--timeout=60s", "-f", crds)

    def start(
        self,
        issuer: str,
        ca: tuple[pathlib.Path, pathlib.Path] | None = None,
        timeout: float = 60.0,
    ) -> CertManager:
        """Runs the controller and a ClusterIssuer `issuer`: self-signed, or a CA from `ca`.

        `ca` is (certificate, key) as PEM files; clients that trust the certificate then trust
        every certificate the issuer signs, which a self-signed issuer cannot offer.
        """
        self.install_crds()
        self.log_dir.mkdir(parents=True, exist_ok=True)
        argv = [
            str(self.bin_dir / "cert-manager-controller"),
            f"--kubeconfig={self.cluster.kubeconfig}",
            f"--cluster-resource-namespace={CLUSTER_RESOURCE_NAMESPACE}",
        ]
        self.child = spawn("cert-manager", argv, self.log_dir)
        if ca is None:
            manifest = SELF_SIGNED_ISSUER.format(name=issuer)
        else:
            secret = f"{issuer}-ca"
            tls_secret = self.cluster.kubectl(
                "create",
                "secret",
                "tls",
                secret,
                f"--cert={ca[0]}",
                f"--key={ca[1]}",
                f"--namespace={CLUSTER_RESOURCE_NAMESPACE}",
                "--dry-run=client",
                "-o",
                "yaml",
            ).stdout
            self.cluster.kubectl("apply", "-f", "-", input=tls_secret)
            manifest = CA_ISSUER.format(name=issuer, secret=secret)
        self.cluster.kubectl("apply", "-f", "-", input=manifest)
        wait_until(
            f"ClusterIssuer {issuer} Ready",
            lambda: self._issuer_ready(issuer),
            timeout,
            interval=0.5,
            check=self.check,
        )
        return self

    def _issuer_ready(self, issuer: str) -> bool:
        jsonpath = '{.status.conditions[?(@.type=="Ready")].status}'
        found = self.cluster.kubectl(
            "get", "clusterissuer", issuer, "-o", f"jsonpath={jsonpath}", check=False
        )
        return found.stdout.strip() == "True"
