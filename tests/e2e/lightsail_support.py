"""The Lightsail endpoint as a child process, a proxy that records what it answers, and the
real AWS CLI and botocore signer pointed at it."""

from __future__ import annotations

import datetime as dt
import http.client
import http.server
import json
import os
import pathlib
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

import botocore.auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from devcluster.lightsail_process import EndpointProcess

__all__ = ["EndpointProcess"]  # for the tests, from devcluster

REGION = "local"
TARGET = "Lightsail_20161128"


@dataclass(frozen=True)
class Exchange:
    operation: str
    status: int
    body: dict[str, Any]


class RecordingProxy:
    """Passes each request on unchanged (so its signature still holds) and keeps the answer."""

    def __init__(self, upstream: str) -> None:
        self.exchanges: list[Exchange] = []
        host, port = upstream.removeprefix("http://").split(":")
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                connection = http.client.HTTPConnection(host, int(port), timeout=60)
                connection.putrequest("POST", self.path, skip_host=True, skip_accept_encoding=True)
                for name, value in self.headers.items():
                    connection.putheader(name, value)
                connection.endheaders(body)
                answer = connection.getresponse()
                payload = answer.read()
                target = self.headers.get("X-Amz-Target", "")
                proxy.exchanges.append(
                    Exchange(target.partition(".")[2], answer.status, json.loads(payload or b"{}"))
                )
                self.send_response(answer.status)
                for name, value in answer.getheaders():
                    if name.lower() not in ("connection", "server", "date"):
                        self.send_header(name, value)
                self.end_headers()
                self.wfile.write(payload)
                connection.close()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class AwsCli:
    """`aws lightsail ...` (awscli from the venv) with its own config and credentials files."""

    def __init__(self, workdir: pathlib.Path, url: str, key: dict[str, str]) -> None:
        self.workdir, self.url = workdir, url
        (workdir / "config").write_text(f"[default]\nregion = {REGION}\noutput = json\n")
        (workdir / "credentials").write_text(
            "[default]\n"
            f"aws_access_key_id = {key['AccessKeyId']}\n"
            f"aws_secret_access_key = {key['SecretAccessKey']}\n"
        )

    def env(self) -> dict[str, str]:
        kept = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        return {
            **kept,
            "AWS_CONFIG_FILE": str(self.workdir / "config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(self.workdir / "credentials"),
            "AWS_PAGER": "",
            "AWS_EC2_METADATA_DISABLED": "true",
        }

    def __call__(self, *args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [sys.executable, "-m", "awscli", "lightsail", *args, "--endpoint-url", self.url],
            capture_output=True,
            text=True,
            cwd=self.workdir,
            env=self.env(),
            timeout=120,
        )
        if ok and result.returncode != 0:
            raise AssertionError(
                f"aws lightsail {args} exited {result.returncode}:\n{result.stderr}"
            )
        return result

    def json(self, *args: str) -> Any:
        return json.loads(self(*args).stdout)


def signed_request(
    url: str,
    operation: str,
    params: dict[str, Any],
    key: dict[str, str],
    at: dt.datetime | None = None,
) -> AWSRequest:
    """One request signed by botocore's own SigV4 signer (at another time, if given)."""
    request = AWSRequest(
        method="POST",
        url=url + "/",
        data=json.dumps(params).encode(),
        headers={
            "X-Amz-Target": f"{TARGET}.{operation}",
            "Content-Type": "application/x-amz-json-1.1",
        },
    )
    signer = botocore.auth.SigV4Auth(
        Credentials(key["AccessKeyId"], key["SecretAccessKey"]), "lightsail", REGION
    )
    original = botocore.auth.get_current_datetime
    if at is not None:
        botocore.auth.get_current_datetime = lambda: at.replace(tzinfo=None)
    try:
        signer.add_auth(request)
    finally:
        botocore.auth.get_current_datetime = original
    return request


def send(request: AWSRequest) -> tuple[int, dict[str, Any]]:
    sent = urllib.request.Request(
        request.url, data=request.body, headers=dict(request.headers), method="POST"
    )
    try:
        with urllib.request.urlopen(sent, timeout=60) as answer:
            return answer.status, json.loads(answer.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")
