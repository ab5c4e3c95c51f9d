"""The small HTTP(S) servers Berth runs beside the operator (the Lightsail endpoint, the registry's
token service): bound, threaded, and TLS when a certificate and key are given."""

import http.server
import ssl


def bound_server(
    host: str,
    port: int,
    handler: type[http.server.BaseHTTPRequestHandler],
    tls_cert: str | None = None,
    tls_key: str | None = None,
) -> http.server.ThreadingHTTPServer:
    """A server bound to host:port (port 0: any free one); call serve_forever."""
    server = http.server.ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    if tls_cert and tls_key:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(tls_cert, tls_key)
        server.socket = context.wrap_socket(server.socket, server_side=True)
    return server
