"""The endpoint's HTTP server: one POST / per call, signed, validated, answered as AWS does."""

import http.server
import logging
import threading
import uuid
from datetime import UTC, datetime
from typing import Any

from kubernetes import client as k8s

from berth.cli.client import BerthClient
from berth.cli.kube_rest import KubeRest
from berth.cli.registry_login import RegistryLogin, registry_login
from berth.http_serving import bound_server
from berth.lightsail import keys, model, operations, protocol, sigv4
from berth.lightsail.calls import Call
from berth.lightsail.protocol import AwsError
from berth.render import names
from berth.settings import Settings

log = logging.getLogger("berth.lightsail")


class Endpoint:
    """Everything a request needs: the endpoint's own API client, keys, settings."""

    def __init__(self, api: k8s.ApiClient, settings: Settings) -> None:
        self.api, self.settings = api, settings
        self.rest = KubeRest(api)
        self.guard = sigv4.ReplayGuard()
        self._tenants: dict[str, KubeRest] = {}
        self._lock = threading.Lock()

    def tenant_api(self, key: keys.AccessKey) -> KubeRest:
        """A connection that impersonates the key's ServiceAccount, one per account."""
        with self._lock:
            if key.user not in self._tenants:
                api = k8s.ApiClient(self.api.configuration)
                api.set_default_header("Impersonate-User", key.user)
                self._tenants[key.user] = KubeRest(api)
            return self._tenants[key.user]

    def powers(self) -> list[Any]:
        return BerthClient(self.rest, self.settings.namespace).powers()

    def registry_login(self, namespace: str) -> RegistryLogin:
        """A login of `namespace`, minted with the Secret in the endpoint's own namespace (the
        release's, where its Role may read Secrets)."""
        where = f"{self.settings.namespace}/{names.REGISTRY_LOGIN_SECRET}"
        return registry_login(BerthClient(self.rest, self.settings.namespace), where, namespace)

    def answer(self, request: sigv4.Request) -> tuple[int, dict[str, Any]]:
        name: str | None = None
        try:
            name = protocol.operation_of(request.header("x-amz-target"), model.target_prefix())
            return 200, self.call(name, request)
        except AwsError as error:
            return error.status, error.body(name, model.error_names())

    def call(self, name: str, request: sigv4.Request) -> dict[str, Any]:
        operation = model.operation(name)
        if operation is None:
            raise AwsError("UnknownOperationException", f"unknown operation {name}")
        key = self.authenticate(request, replayable=name in operations.READS)
        run = operations.OPERATIONS.get(name)
        if run is None:
            raise protocol.invalid_input(
                f"{name} is not served here: Berth serves Lightsail's container-service "
                "operations only"
            )
        params = protocol.parse_body(request.body)
        problems = model.problems(params, operation.input_shape)
        if problems:
            raise protocol.invalid_input(problems)
        client = BerthClient(self.tenant_api(key), key.namespace)
        try:
            call = Call(
                client,
                self.powers,
                self.settings.region,
                self.settings.prometheus_url,
                self.registry_login,
            )
            result = run(call, params)
        except AwsError as error:
            if error.status >= 500:
                self.guard.forget(
                    sigv4.parse_authorization(request.header("authorization")).signature
                )
            raise
        output: dict[str, Any] = protocol.laid_out(result, operation.output_shape) or {}
        return output

    def authenticate(self, request: sigv4.Request, replayable: bool) -> keys.AccessKey:
        auth = sigv4.parse_authorization(request.header("authorization"))
        key = keys.find(self.rest, self.settings.namespace, auth.access_key_id)
        if key is None:
            raise AwsError(
                "UnrecognizedClientException",
                "The security token included in the request is invalid.",
            )
        now = datetime.now(UTC)
        sigv4.verify(request, auth, key.secret_access_key, self.settings.region, now)
        if not replayable:
            self.guard.admit(auth.signature, now)
        return key


class Handler(http.server.BaseHTTPRequestHandler):
    server_version = "berth-lightsail"
    protocol_version = "HTTP/1.1"
    endpoint: Endpoint  # set on the subclass that serve() makes

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length > self.endpoint.settings.lightsail_max_body_bytes:
            self.send(413, {"__type": "SerializationException", "message": "body too large"})
            return
        body = self.rfile.read(length)
        request = sigv4.Request("POST", self.path, list(self.headers.items()), body)
        try:
            status, answer = self.endpoint.answer(request)
        except Exception:
            log.exception("internal error")
            status, answer = 500, {"__type": "ServiceException", "message": "internal error"}
        self.send(status, answer)

    def do_GET(self) -> None:
        if self.path == "/healthz":  # for probes: the process serves requests
            self.send(200, {"status": "ok"})
            return
        self.send(404, {"__type": "UnknownOperationException", "message": "POST / only"})

    def send(self, status: int, answer: dict[str, Any]) -> None:
        payload = protocol.encode(answer)
        self.send_response(status)
        self.send_header("Content-Type", protocol.CONTENT_TYPE)
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        # the request line only: no header of a request (its signature) reaches the log
        log.info("%s %s", self.address_string(), format % args)


def serve(endpoint: Endpoint) -> http.server.ThreadingHTTPServer:
    """A bound server (call serve_forever); HTTPS when a certificate and key are set."""
    settings = endpoint.settings
    handler = type("BoundHandler", (Handler,), {"endpoint": endpoint})
    return bound_server(
        settings.lightsail_host,
        settings.lightsail_port,
        handler,
        settings.lightsail_tls_cert,
        settings.lightsail_tls_key,
    )
