"""The API server, as pods on the real node reach it: through the `kubernetes` Service.

The API server listens on 127.0.0.1 only, which a pod cannot reach: inside its network namespace,
127.0.0.1 is the pod itself. It advertises the bridge's address instead (components.py), so the
`kubernetes` Service's endpoint is BRIDGE_IP:<port> and kube-proxy sends 10.96.0.1:443 there; this
relays each connection from that address, which exists only while the node's bridge does, to the
API server's loopback port. TLS passes through untouched: pods check the API server's own
certificate, which names 10.96.0.1 and the bridge's address.
"""

from __future__ import annotations

import contextlib
import logging
import selectors
import socket
import threading

logger = logging.getLogger(__name__)
CHUNK = 64 * 1024


def _pump(client: socket.socket, upstream: socket.socket) -> None:
    """Copies bytes both ways until either side closes; half-closes are passed on."""
    selector = selectors.DefaultSelector()
    peers = {client: upstream, upstream: client}
    for sock in peers:
        selector.register(sock, selectors.EVENT_READ)
    open_reads = 2
    try:
        while open_reads:
            for key, _ in selector.select():
                source: socket.socket = key.fileobj  # type: ignore[assignment]
                try:
                    data = source.recv(CHUNK)
                except OSError:
                    return
                if not data:
                    selector.unregister(source)
                    open_reads -= 1
                    with contextlib.suppress(OSError):
                        peers[source].shutdown(socket.SHUT_WR)
                    continue
                peers[source].sendall(data)
    except OSError:
        return
    finally:
        selector.close()
        client.close()
        upstream.close()


class ApiBridge:
    """Relays (address, port) to (127.0.0.1, port) until stopped."""

    def __init__(self, address: str, port: int, target: tuple[str, int]) -> None:
        self.address, self.port, self.target = address, port, target
        self._listener: socket.socket | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> ApiBridge:
        listener = socket.create_server((self.address, self.port), backlog=128)
        self._listener = listener
        self._thread = threading.Thread(target=self._accept, daemon=True, name="api-bridge")
        self._thread.start()
        return self

    def _accept(self) -> None:
        listener = self._listener
        assert listener is not None
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # closed by stop()
            try:
                upstream = socket.create_connection(self.target, timeout=10)
            except OSError as error:
                logger.warning("API server unreachable for a pod: %s", error)
                client.close()
                continue
            upstream.settimeout(None)
            threading.Thread(target=_pump, args=(client, upstream), daemon=True).start()

    def stop(self) -> None:
        if self._listener is not None:
            # shutdown() wakes the accept() blocked in the other thread; close() alone may not.
            with contextlib.suppress(OSError):
                self._listener.shutdown(socket.SHUT_RDWR)
            self._listener.close()
            self._listener = None
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None
