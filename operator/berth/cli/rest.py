"""What the CLI needs of an API server connection: one JSON request, and the two ways it fails.

Two connections implement it: http_rest.py (the CLI's own, which starts in milliseconds) and
kube_rest.py (the kubernetes package's, for kubeconfigs with exec plugins or auth providers,
and for the Lightsail endpoint). Callers see the same errors from both.
"""

import json
from collections.abc import Sequence
from typing import Any, Protocol
from urllib.parse import quote

Query = Sequence[tuple[str, str]]
JSON = "application/json"
# Pod logs are text/plain: the JSON-only Accept of other calls would not fit them.
ACCEPT = "application/json, */*"
MERGE_PATCH = "application/merge-patch+json"
JSON_PATCH = "application/json-patch+json"
APPLY_PATCH = "application/apply-patch+yaml"  # server-side apply; JSON is YAML


class ApiError(Exception):
    """The API server answered with an error status."""

    def __init__(self, status: int, reason: str, body: str = "") -> None:
        super().__init__(f"{status} {reason}")
        self.status, self.reason, self.body = status, reason, body

    @property
    def message(self) -> str:
        """The Status message the API server sent, else the HTTP status and reason."""
        try:
            status = json.loads(self.body or "")
        except ValueError:
            status = None
        if isinstance(status, dict) and status.get("message"):
            return str(status["message"])
        return f"{self.status} {self.reason}"


class Unreachable(Exception):
    """No answer from the API server: refused, reset, timed out, or a TLS failure."""


class Rest(Protocol):
    def request(
        self,
        method: str,
        path: str,
        query: Query = (),
        body: Any = None,
        content_type: str = JSON,
    ) -> Any:
        """The answer's JSON (its text, when it is not JSON); ApiError or Unreachable."""
        ...


def apis_path(
    group: str, version: str, namespace: str | None, plural: str, name: str | None = None
) -> str:
    """/apis/<group>/<version>[/namespaces/<ns>]/<plural>[/<name>]: custom resources and the
    built-in groups (rbac.authorization.k8s.io ...)."""
    return _path(f"/apis/{group}/{version}", namespace, plural, name)


def core_path(
    namespace: str | None, plural: str, name: str | None = None, subresource: str | None = None
) -> str:
    """/api/v1[/namespaces/<ns>]/<plural>[/<name>[/<subresource>]]."""
    path = _path("/api/v1", namespace, plural, name)
    return f"{path}/{subresource}" if subresource else path


def _path(prefix: str, namespace: str | None, plural: str, name: str | None) -> str:
    path = prefix
    if namespace is not None:
        path += f"/namespaces/{quote(namespace, safe='')}"
    path += f"/{plural}"
    if name is not None:
        path += f"/{quote(name, safe='')}"
    return path
