"""berth.http_serving: the Lightsail endpoint's and the token service's server, over HTTPS when
given a certificate, plain HTTP otherwise."""

from __future__ import annotations

import http.client
import http.server
import pathlib
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from berth.http_serving import bound_server
from devcluster.certs import write_certs


class Hello(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "5")
        self.end_headers()
        self.wfile.write(b"hello")

    def log_message(self, format: str, *args: object) -> None:
        return


@contextmanager
def running(server: http.server.ThreadingHTTPServer) -> Iterator[int]:
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_port
    finally:
        server.shutdown()
        server.server_close()


def test_with_a_certificate_it_answers_over_tls_that_the_certificates_ca_verifies(
    tmp_path: pathlib.Path,
) -> None:
    certs = write_certs(tmp_path)
    server = bound_server("127.0.0.1", 0, Hello, str(certs.serving_cert), str(certs.serving_key))
    with running(server) as port:
        trusted = ssl.create_default_context(cafile=str(certs.ca_cert))
        connection = http.client.HTTPSConnection("127.0.0.1", port, context=trusted, timeout=5)
        connection.request("GET", "/")
        answer = connection.getresponse()

        assert (answer.status, answer.read()) == (200, b"hello")


def test_without_a_certificate_it_answers_plain_http() -> None:
    with running(bound_server("127.0.0.1", 0, Hello)) as port:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        connection.request("GET", "/")

        assert connection.getresponse().status == 200
