"""Copies the operator's private-zone ConfigMap into CoreDNS's zone file.

In a cluster, CoreDNS mounts the ConfigMap and the kubelet refreshes the file; CoreDNS here runs
beside the cluster as a host process, so this thread plays the kubelet's part.
"""

from __future__ import annotations

import threading

import kubernetes

from berth.render import names
from devcluster.addons import CoreDNS


class ZoneMirror:
    def __init__(
        self,
        api: kubernetes.client.ApiClient,
        server: CoreDNS,
        namespace: str,
        suffix: str,
        interval: float = 0.2,
    ) -> None:
        self.core = kubernetes.client.CoreV1Api(api)
        self.server, self.namespace, self.interval = server, namespace, interval
        self.key = names.private_zone_key(suffix)
        self.written: str | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="zone-mirror")

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                found = self.core.read_namespaced_config_map(
                    names.PRIVATE_ZONE_CONFIGMAP, self.namespace
                )
            except (kubernetes.client.ApiException, OSError):
                continue  # not written yet, being restored, or the API server is restarting
            text = (found.data or {}).get(self.key)
            if text and text != self.written:
                self.server.write_zone(text)
                self.written = text

    def start(self) -> ZoneMirror:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)
