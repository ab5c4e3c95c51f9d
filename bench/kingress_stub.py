"""A stand-in for Knative's networking layer in the benchmark: it marks every KIngress of its class
Ready, as a net-* controller does once its proxy is programmed, and programs nothing. No net-*
layer is built here; without one no Route, and so no Knative Service, ever becomes Ready.

Run as `python -m bench.kingress_stub --kubeconfig K --ingress-class C`.
"""

from __future__ import annotations

import argparse
import datetime
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import kubernetes

GROUP, VERSION, PLURAL = "networking.internal.knative.dev", "v1alpha1", "ingresses"
CLASS_ANNOTATIONS = (
    "networking.knative.dev/ingress.class",
    "networking.knative.dev/ingress-class",
)
CONDITIONS = ("LoadBalancerReady", "NetworkConfigured", "Ready")
# What the stub says the load balancers are called: Routes point ExternalName Services at them.
PUBLIC_GATEWAY = "stub-public.knative-serving.svc.cluster.local"
PRIVATE_GATEWAY = "stub-private.knative-serving.svc.cluster.local"
# Status writes sent at once: a real layer answers many KIngresses in parallel too.
THREADS = 8

log = logging.getLogger("kingress-stub")


def is_ready(ingress: dict[str, Any]) -> bool:
    """Whether the status already says Ready, for the current generation, with both balancers."""
    status = ingress.get("status") or {}
    if status.get("observedGeneration") != ingress["metadata"].get("generation"):
        return False
    if not (status.get("publicLoadBalancer") and status.get("privateLoadBalancer")):
        return False
    true = {c.get("type") for c in status.get("conditions") or [] if c.get("status") == "True"}
    return set(CONDITIONS) <= true


def wanted_status(
    ingress: dict[str, Any], ingress_class: str, now: datetime.datetime
) -> dict[str, Any] | None:
    """The status to write for `ingress`, or None when it is another class's or already Ready."""
    annotations = ingress["metadata"].get("annotations") or {}
    if not any(annotations.get(key) == ingress_class for key in CLASS_ANNOTATIONS):
        return None
    if is_ready(ingress):
        return None
    stamp = now.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "observedGeneration": ingress["metadata"].get("generation"),
        "conditions": [
            {"type": kind, "status": "True", "lastTransitionTime": stamp} for kind in CONDITIONS
        ],
        "publicLoadBalancer": {"ingress": [{"domainInternal": PUBLIC_GATEWAY}]},
        "privateLoadBalancer": {"ingress": [{"domainInternal": PRIVATE_GATEWAY}]},
    }


class Stub:
    """Watches every KIngress and writes the status `wanted_status` asks for."""

    def __init__(self, api: kubernetes.client.ApiClient, ingress_class: str) -> None:
        self.custom = kubernetes.client.CustomObjectsApi(api)
        self.ingress_class = ingress_class
        self.pool = ThreadPoolExecutor(THREADS)
        self.stopped = threading.Event()

    def handle(self, ingress: dict[str, Any]) -> None:
        status = wanted_status(ingress, self.ingress_class, datetime.datetime.now(datetime.UTC))
        if status is not None:
            meta = ingress["metadata"]
            self.pool.submit(self.write, meta["namespace"], meta["name"], status)

    def write(self, namespace: str, name: str, status: dict[str, Any]) -> None:
        try:
            self.custom.patch_namespaced_custom_object_status(
                GROUP, VERSION, namespace, PLURAL, name, {"status": status}
            )
        except kubernetes.client.ApiException as error:
            # A newer generation arrives as a watch event and is answered then.
            log.warning("status of %s/%s: %s", namespace, name, error.reason)

    def run(self) -> None:
        """List, answer, watch from the list's version; list again when the watch ends."""
        while not self.stopped.is_set():
            listed = self.custom.list_cluster_custom_object(GROUP, VERSION, PLURAL)
            for ingress in listed["items"]:
                self.handle(ingress)
            watch = kubernetes.watch.Watch()
            try:
                for event in watch.stream(
                    self.custom.list_cluster_custom_object,
                    GROUP,
                    VERSION,
                    PLURAL,
                    resource_version=listed["metadata"]["resourceVersion"],
                    timeout_seconds=300,
                ):
                    if event["type"] in ("ADDED", "MODIFIED"):
                        self.handle(event["object"])
            except kubernetes.client.ApiException as error:
                log.info("watch ended (%s); listing again", error.reason)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--kubeconfig", required=True)
    parser.add_argument("--ingress-class", required=True)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    api = kubernetes.config.new_client_from_config(config_file=args.kubeconfig)
    Stub(api, args.ingress_class).run()


if __name__ == "__main__":
    main()
