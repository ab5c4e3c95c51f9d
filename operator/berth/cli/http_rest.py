"""The CLI's own connection to the API server: JSON over one kept-alive HTTPS connection.

The standard library's http.client and ssl load in tens of milliseconds; the kubernetes
package takes most of a second, longer than a whole `kubectl get`.
"""

import http.client
import json
import pathlib
import ssl
import tempfile
import time
from typing import Any
from urllib.parse import urlencode, urlsplit

from berth.cli.kubeconfig import Server
from berth.cli.rest import ACCEPT, JSON, ApiError, Query, Unreachable

TIMEOUT_SECONDS = 60.0
USER_AGENT = "berth-cli"
# A request on a kept-alive connection the server has since closed fails before it is read;
# these are sent again once on a new connection. A POST is not: it might have been read. So
# that a POST rarely meets a closed connection, one idle this long is not reused.
_RESENDABLE = {"GET", "HEAD", "PUT", "PATCH", "DELETE"}
IDLE_SECONDS = 5.0
# client-go's answer to a server that says "later" (Retry-After): that many seconds, up to ten
# tries. A 429 was not served, so any request may be sent again; a 5xx only a read.
RETRY_ATTEMPTS = 10
MAX_RETRY_AFTER_SECONDS = 10.0
_READS = {"GET", "HEAD"}


class HttpRest:
    """One connection at a time, for one thread: a CLI process. (The Lightsail endpoint, which
    serves requests on many threads, uses kube_rest's pooled client.)"""

    def __init__(self, server: Server, timeout: float = TIMEOUT_SECONDS) -> None:
        url = urlsplit(server.url)
        if url.scheme not in ("http", "https") or not url.hostname:
            raise ValueError(f"not an http(s) URL: {server.url!r}")
        self.server = server
        self.url = server.url
        self._https = url.scheme == "https"
        self._host, self._port = url.hostname, url.port
        self._base = url.path.rstrip("/")
        self._timeout = timeout
        self._tls = tls_context(server) if self._https else None
        self._connection: http.client.HTTPConnection | None = None
        self._used = 0.0

    def request(
        self,
        method: str,
        path: str,
        query: Query = (),
        body: Any = None,
        content_type: str = JSON,
    ) -> Any:
        headers = {"Accept": ACCEPT, "User-Agent": USER_AGENT}
        token = self._token()
        if token:
            headers["Authorization"] = f"Bearer {token}"
        payload = None
        if body is not None:
            payload = json.dumps(body).encode()
            headers["Content-Type"] = content_type
        target = self._base + path + (f"?{urlencode(list(query))}" if query else "")
        attempt = 1
        while True:
            status, reason, answer, said = self._exchange(method, target, payload, headers)
            text = answer.decode(errors="replace")
            if 200 <= status < 300:
                break
            delay = retry_delay(method, status, said.get("retry-after"), attempt)
            if delay is None:
                raise ApiError(status, reason, text)
            time.sleep(delay)
            attempt += 1
        if "json" in said.get("content-type", "") and text:
            return json.loads(text)
        return text

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def _token(self) -> str | None:
        if self.server.token_file:
            # Read each time: projected ServiceAccount tokens are rotated in place.
            try:
                return pathlib.Path(self.server.token_file).read_text().strip()
            except OSError as error:
                raise Unreachable(f"cannot read the token file: {error}") from error
        return self.server.token

    def _exchange(
        self, method: str, target: str, payload: bytes | None, headers: dict[str, str]
    ) -> tuple[int, str, bytes, dict[str, str]]:
        """Status, reason, body and headers (names in lower case) of one request."""
        if time.monotonic() - self._used > IDLE_SECONDS:
            self.close()
        for attempt in range(2):
            reused = self._connection is not None
            connection = self._connection or self._connect()
            self._connection = connection
            try:
                connection.request(method, target, body=payload, headers=headers)
                response = connection.getresponse()
                body = response.read()
            except (ConnectionResetError, BrokenPipeError, http.client.BadStatusLine) as error:
                self.close()
                if reused and attempt == 0 and method in _RESENDABLE:
                    continue
                raise Unreachable(_describe(error)) from error
            except (OSError, http.client.HTTPException) as error:  # ssl.SSLError is an OSError
                self.close()
                raise Unreachable(_describe(error)) from error
            self._used = time.monotonic()
            if response.will_close:
                self.close()
            said = {name.lower(): value for name, value in response.getheaders()}
            return response.status, response.reason, body, said
        raise AssertionError("unreachable: the loop returns or raises")

    def _connect(self) -> http.client.HTTPConnection:
        if self._tls is not None:
            return http.client.HTTPSConnection(
                self._host, self._port, timeout=self._timeout, context=self._tls
            )
        return http.client.HTTPConnection(self._host, self._port, timeout=self._timeout)


def retry_delay(method: str, status: int, retry_after: str | None, attempt: int) -> float | None:
    """Seconds to wait before sending a refused request again, or None to give up."""
    if attempt >= RETRY_ATTEMPTS or retry_after is None or not retry_after.strip().isdigit():
        return None
    if status != 429 and not (status >= 500 and method in _READS):
        return None
    return min(float(retry_after), MAX_RETRY_AFTER_SECONDS)


def tls_context(server: Server) -> ssl.SSLContext:
    """Verify the server by the kubeconfig's CA (else the system's); present the client
    certificate if there is one."""
    if server.insecure:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    else:
        context = ssl.create_default_context(cafile=server.ca_file, cadata=server.ca_pem)
    if server.cert_file or server.cert_pem:
        _load_client_certificate(context, server)
    return context


def _load_client_certificate(context: ssl.SSLContext, server: Server) -> None:
    if server.cert_file and server.key_file and not (server.cert_pem or server.key_pem):
        context.load_cert_chain(server.cert_file, server.key_file)
        return
    # ssl loads certificates and keys from files only: inline ones go to a private scratch
    # directory (mode 0700) that is removed as soon as they are loaded.
    with tempfile.TemporaryDirectory(prefix="berth-cli-") as scratch:
        cert = _file(server.cert_file, server.cert_pem, pathlib.Path(scratch) / "client.crt")
        key = _file(server.key_file, server.key_pem, pathlib.Path(scratch) / "client.key")
        if cert is None:
            raise ValueError("a client key without a client certificate")
        context.load_cert_chain(cert, key)


def _file(path: str | None, pem: str | None, scratch: pathlib.Path) -> str | None:
    if pem:
        scratch.write_text(pem)
        return str(scratch)
    return path


def _describe(error: BaseException) -> str:
    return str(error) or type(error).__name__
