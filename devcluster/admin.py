"""Just enough HTTPS, as the admin user, to bootstrap and probe the embedded API server."""

from __future__ import annotations

import http.client
import json
import ssl
import time
import urllib.request
from collections.abc import Callable
from typing import Any

from devcluster.certs import CertPaths

JsonObject = dict[str, Any]


class AdminClient:
    """Talks to one API server with the admin client certificate."""

    def __init__(self, host: str, port: int, certs: CertPaths, timeout: float = 5.0) -> None:
        self._host = host
        self._port = port
        self._timeout = timeout
        self._context = ssl.create_default_context(cafile=str(certs.ca_cert))
        self._context.load_cert_chain(str(certs.admin_cert), str(certs.admin_key))

    def request(self, method: str, path: str, body: JsonObject | None = None) -> tuple[int, bytes]:
        """Status and body of one request; connection errors propagate as OSError."""
        conn = http.client.HTTPSConnection(
            self._host, self._port, context=self._context, timeout=self._timeout
        )
        try:
            payload = None if body is None else json.dumps(body).encode()
            headers = {"Content-Type": "application/json", "Accept": "application/json"}
            conn.request(method, path, body=payload, headers=headers)
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            conn.close()

    def get(self, path: str) -> JsonObject | None:
        """The object at `path`, or None when it does not exist (yet)."""
        status, data = self.request("GET", path)
        if status == 404:
            return None
        _raise_for(status, data, path)
        result: JsonObject = json.loads(data)
        return result

    def create(self, path: str, body: JsonObject) -> None:
        """POSTs `body`; an object that already exists is fine."""
        status, data = self.request("POST", path, body)
        if status != 409:
            _raise_for(status, data, path)


def _raise_for(status: int, data: bytes, path: str) -> None:
    if status >= 300:
        raise RuntimeError(f"{path}: HTTP {status}: {data[:500].decode(errors='replace')}")


def http_ok(url: str) -> bool:
    """Whether a plain-HTTP health endpoint answers 200 (raises OSError while it cannot)."""
    with urllib.request.urlopen(url, timeout=2) as answer:
        return bool(answer.status == 200)


def wait_until(
    what: str,
    probe: Callable[[], bool],
    timeout: float,
    interval: float = 0.1,
    check: Callable[[], None] | None = None,
) -> None:
    """Polls `probe` until it is true; `check` may raise to give up early (a component died)."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        if check is not None:
            check()
        try:
            if probe():
                return
        except (OSError, RuntimeError) as error:
            last_error = error
        time.sleep(interval)
    raise TimeoutError(
        f"timed out after {timeout:.0f}s waiting for {what}; last error: {last_error}"
    )
