"""`make run`: a cluster, the Berth API, the operator and examples/hello.yaml, until Ctrl-C."""

from __future__ import annotations

import pathlib
import sys
import time

from berth import settings
from berth.devcluster.cluster import Cluster, stop_at_exit
from berth.devcluster.external import ExternalCluster, KubeCluster, external_kubeconfig
from berth.devcluster.operator_process import OperatorProcess
from berth.devcluster.processes import ChildFailed

REPO = pathlib.Path(__file__).resolve().parents[3]
STATE_DIR = REPO / ".berth"
EXAMPLE = REPO / "examples" / "hello.yaml"


def install_api(cluster: KubeCluster) -> None:
    """CRDs from crds/, the default powers and the operator's namespace, as the chart does."""
    namespace = settings.load().namespace
    if cluster.kubectl("get", "namespace", namespace, check=False).returncode != 0:
        cluster.kubectl("create", "namespace", namespace)
    crds = str(REPO / "crds")
    cluster.kubectl("apply", "-f", crds)
    cluster.kubectl("wait", "--for=condition=Established", "--timeout=60s", "-f", crds)
    cluster.kubectl("apply", "-f", str(REPO / "manifests" / "powers.yaml"))


def wait_running(cluster: KubeCluster, name: str, timeout: float = 120.0) -> str:
    deadline = time.monotonic() + timeout
    state = ""
    while time.monotonic() < deadline:
        answer = cluster.kubectl("get", "csvc", name, "-o", "jsonpath={.status.state}", check=False)
        state = answer.stdout.strip()
        if state == "RUNNING":
            return state
        time.sleep(0.5)
    return state or "unknown"


def serve(cluster: KubeCluster, kubectl: str) -> None:
    install_api(cluster)
    operator = OperatorProcess(cluster.kubeconfig, STATE_DIR / "operator.log")
    operator.start()
    try:
        cluster.kubectl("apply", "-f", str(EXAMPLE))
        state = wait_running(cluster, "hello")
        print(cluster.kubectl("get", "csvc,csd,deployments,services,pods").stdout, flush=True)
        print(
            f"hello is {state}. In a second terminal:\n\n"
            f"  export KUBECONFIG={cluster.kubeconfig}\n"
            f"  {kubectl} get csvc\n\n"
            f"operator log: {operator.log}   metrics: {operator.metrics_url}\n"
            "Ctrl-C stops everything.",
            flush=True,
        )
        while True:
            time.sleep(1.0)
            if operator.process is not None and operator.process.poll() is not None:
                raise RuntimeError(f"the operator exited; see {operator.log}")
            if isinstance(cluster, Cluster):
                cluster.check()
    finally:
        operator.stop()


def main() -> int:
    STATE_DIR.mkdir(exist_ok=True)
    external = external_kubeconfig()
    if external is not None:
        cluster: KubeCluster = ExternalCluster(external)
        print(f"using the cluster in BERTH_KUBECONFIG={external}", flush=True)
    else:
        cluster = Cluster(kubeconfig=STATE_DIR / "kubeconfig")
    stop_at_exit_if_embedded(cluster)
    try:
        if isinstance(cluster, Cluster):
            cluster.start()
            print(f"control plane up in {cluster.started_in:.1f}s", flush=True)
            kubectl = str(cluster.bin_dir / "kubectl")
        else:
            kubectl = "kubectl"
        serve(cluster, kubectl)
    except KeyboardInterrupt:
        pass
    except (ChildFailed, RuntimeError, TimeoutError) as error:
        print(f"error: {error}", file=sys.stderr, flush=True)
        return 1
    finally:
        print("stopping...", file=sys.stderr, flush=True)
        if isinstance(cluster, Cluster):
            cluster.stop()
    return 0


def stop_at_exit_if_embedded(cluster: KubeCluster) -> None:
    if isinstance(cluster, Cluster):
        stop_at_exit(cluster)


if __name__ == "__main__":
    sys.exit(main())
