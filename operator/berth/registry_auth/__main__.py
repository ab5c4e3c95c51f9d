"""`python -m berth.registry_auth`: the registry's token service, configured by BERTH_* variables;
`python -m berth.registry_auth jwks [FILE]` writes the JWKS of the key (the registry's
`auth.token.jwks`)."""

import http.server
import json
import logging
import pathlib
import sys
import time
from typing import Any

from berth import settings as settings_module
from berth.http_serving import bound_server
from berth.registry_auth.logins import login_key
from berth.registry_auth.service import Request, TokenService
from berth.registry_auth.tokens import Signer
from berth.settings import Settings

log = logging.getLogger("berth.registry_auth")


def token_service(settings: Settings) -> TokenService:
    pem = settings.registry_token_key.get_secret_value()
    if not pem:
        raise ValueError("BERTH_REGISTRY_TOKEN_KEY is not set")
    return TokenService(
        Signer(pem),
        login_key(pem),
        settings.registry_token_issuer,
        settings.registry_token_service,
        settings.registry_token_seconds,
    )


class Handler(http.server.BaseHTTPRequestHandler):
    server_version = "berth-registry-auth"
    protocol_version = "HTTP/1.1"
    service: TokenService  # set on the subclass that serve() makes

    def do_GET(self) -> None:
        self._answer("GET", b"")

    def do_POST(self) -> None:
        length = min(int(self.headers.get("Content-Length") or 0), 64 << 10)
        self._answer("POST", self.rfile.read(length))

    def _answer(self, method: str, body: bytes) -> None:
        path, _, query = self.path.partition("?")
        if path == "/healthz":
            self._send(200, {"status": "ok"})
            return
        if path != "/token":
            self._send(404, {"error": "not_found"})
            return
        request = Request(method, query, self.headers.get("Authorization"), body)
        status, answer = self.service.answer(request, int(time.time()))
        self._send(status, answer)

    def _send(self, status: int, answer: dict[str, Any]) -> None:
        payload = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        if status == 401:
            self.send_header("WWW-Authenticate", 'Basic realm="berth-registry"')
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        # the request line only, never a header (the login is a password)
        log.info("%s %s", self.address_string(), format % args)


def serve(settings: Settings, service: TokenService) -> http.server.ThreadingHTTPServer:
    handler = type("BoundHandler", (Handler,), {"service": service})
    return bound_server(
        settings.registry_token_host,
        settings.registry_token_port,
        handler,
        settings.registry_token_tls_cert,
        settings.registry_token_tls_key,
    )


def main(argv: list[str]) -> int:
    settings = settings_module.load()
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(name)s %(message)s")
    try:
        service = token_service(settings)
    except ValueError as error:
        print(f"berth-registry-auth: {error}", file=sys.stderr)
        return 1
    if argv[1:2] == ["jwks"]:
        jwks = json.dumps(service.signer.jwks())
        if len(argv) > 2:  # a file, for an init container without a shell to redirect
            pathlib.Path(argv[2]).write_text(jwks)
        else:
            print(jwks)
        return 0
    server = serve(settings, service)
    scheme = "https" if settings.registry_token_tls_cert else "http"
    host, port = settings.registry_token_host, server.server_port
    # One line a supervisor (the dev cluster) can read the URL from.
    print(f"berth-registry-auth listening on {scheme}://{host}:{port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
