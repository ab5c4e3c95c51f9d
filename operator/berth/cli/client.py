"""Every call the CLI makes to the API server: Berth's custom resources, pods, their logs."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import ValidationError

from berth.api import limits
from berth.api.objects import (
    ContainerServiceObject,
    PowerObject,
    VersionObject,
    parse_power,
    parse_service,
    parse_version,
)
from berth.cli.errors import CliError, describe_validation
from berth.cli.rest import JSON_PATCH, ApiError, Rest, apis_path, core_path
from berth.render import failure_logs, labels, names

SERVICES = "containerservices"
VERSIONS = "containerservicedeployments"
POWERS = "containerservicepowers"
METRICS_GROUP, METRICS_VERSION = "metrics.k8s.io", "v1beta1"
# Names of versions made here never look like the operator's `<service>-v<N>`.
CLI_VERSION_INFIX = "-cli-"


@dataclass(frozen=True)
class Pod:
    name: str
    containers: tuple[str, ...]


@dataclass(frozen=True)
class KeptLog:
    """The last lines of a container of a failed version, kept after its pod was deleted."""

    version: str
    source: failure_logs.Source
    text: str


class LogUnavailable(Exception):
    """The API server could not hand over a container's log."""


def api_message(error: ApiError) -> str:
    """The Status message the API server sent, else the HTTP reason."""
    return error.message


T = TypeVar("T")


def parsed(parse: Callable[[dict[str, Any]], T], body: dict[str, Any]) -> T:
    """The typed object; an object this CLI cannot read is an error naming it, not a trace."""
    try:
        return parse(body)
    except ValidationError as error:
        meta = body.get("metadata") or {}
        raise CliError(
            f"cannot read {body.get('kind', 'object')} {meta.get('name')!r} "
            f"(is the CLI older than the operator?): {describe_validation(error)}"
        ) from error


class BerthClient:
    def __init__(self, rest: Rest, namespace: str) -> None:
        self.namespace = namespace
        self.rest = rest

    def _fail(self, error: ApiError, what: str) -> CliError:
        if error.status == 404:
            return CliError(f"{what} not found in namespace {self.namespace!r}", 404)
        return CliError(f"{what}: {api_message(error)}", error.status)

    def berth_path(self, plural: str, name: str | None = None) -> str:
        """The path of Berth's namespaced kind `plural` (or of one object of it)."""
        return apis_path(limits.GROUP, limits.VERSION, self.namespace, plural, name)

    # -- services ----------------------------------------------------------------------------

    def services(self) -> list[ContainerServiceObject]:
        try:
            listed = self.rest.request("GET", self.berth_path(SERVICES))
        except ApiError as error:
            raise self._fail(error, "container services") from error
        return sorted((parsed(parse_service, i) for i in listed["items"]), key=lambda s: s.name)

    def find_service(self, name: str) -> ContainerServiceObject | None:
        try:
            found = self.rest.request("GET", self.berth_path(SERVICES, name))
        except ApiError as error:
            if error.status == 404:
                return None
            raise self._fail(error, f"container service {name!r}") from error
        return parsed(parse_service, found)

    def service(self, name: str) -> ContainerServiceObject:
        found = self.find_service(name)
        if found is None:
            raise CliError(
                f"container service {name!r} not found in namespace {self.namespace!r}", 404
            )
        return found

    def create_service(self, name: str, spec: dict[str, Any]) -> ContainerServiceObject:
        body = {
            "apiVersion": limits.API_VERSION,
            "kind": "ContainerService",
            "metadata": {"name": name, "namespace": self.namespace},
            "spec": spec,
        }
        try:
            created = self.rest.request("POST", self.berth_path(SERVICES), body=body)
        except ApiError as error:
            if error.status == 409:
                raise CliError(f"container service {name!r} already exists", 409) from error
            raise self._fail(error, f"container service {name!r}") from error
        return parsed(parse_service, created)

    def patch_service(self, name: str, operations: list[dict[str, Any]]) -> ContainerServiceObject:
        """A JSON patch: replaces whole maps, where a merge patch would merge them."""
        try:
            patched = self.rest.request(
                "PATCH", self.berth_path(SERVICES, name), body=operations, content_type=JSON_PATCH
            )
        except ApiError as error:
            raise self._fail(error, f"container service {name!r}") from error
        return parsed(parse_service, patched)

    def delete_service(self, name: str) -> None:
        try:
            # Foreground: the service stays, DELETING, until what it owns is gone (Lightsail
            # shows DELETING too); a background deletion would remove it at once.
            self.rest.request(
                "DELETE",
                self.berth_path(SERVICES, name),
                [("propagationPolicy", "Foreground")],
            )
        except ApiError as error:
            raise self._fail(error, f"container service {name!r}") from error

    # -- versions ----------------------------------------------------------------------------

    def versions(self, service: str) -> list[VersionObject]:
        """The service's CSDs, numbered or not, by spec.serviceName (hand-made ones too)."""
        try:
            listed = self.rest.request("GET", self.berth_path(VERSIONS))
        except ApiError as error:
            raise self._fail(error, "container service deployments") from error
        found = (parsed(parse_version, i) for i in listed["items"])
        return [v for v in found if v.spec.service_name == service]

    def version(self, name: str) -> VersionObject:
        try:
            found = self.rest.request("GET", self.berth_path(VERSIONS, name))
        except ApiError as error:
            raise self._fail(error, f"container service deployment {name!r}") from error
        return parsed(parse_version, found)

    def create_version(self, service: str, content: dict[str, Any]) -> VersionObject:
        body = {
            "apiVersion": limits.API_VERSION,
            "kind": "ContainerServiceDeployment",
            "metadata": {
                "generateName": f"{service}{CLI_VERSION_INFIX}",
                "namespace": self.namespace,
                "labels": {names.SERVICE_LABEL: service},
            },
            "spec": {"serviceName": service, **content},
        }
        try:
            created = self.rest.request("POST", self.berth_path(VERSIONS), body=body)
        except ApiError as error:
            raise self._fail(error, f"deployment of {service!r}") from error
        return parsed(parse_version, created)

    # -- powers ------------------------------------------------------------------------------

    def powers(self) -> list[PowerObject]:
        try:
            listed = self.rest.request("GET", apis_path(limits.GROUP, limits.VERSION, None, POWERS))
        except ApiError as error:
            raise self._fail(error, "container service powers") from error
        found = [parsed(parse_power, i) for i in listed["items"]]
        return sorted(found, key=lambda p: (p.spec.price, p.spec.cpu_count, p.metadata.name))

    # -- pods, logs, metrics -----------------------------------------------------------------

    def pods(self, service: str) -> list[Pod]:
        selector = labels.service_selector(service)
        try:
            listed = self.rest.request(
                "GET", core_path(self.namespace, "pods"), [("labelSelector", selector)]
            )
        except ApiError as error:
            raise self._fail(error, f"pods of {service!r}") from error
        pods = [
            Pod(
                p["metadata"]["name"],
                tuple(c["name"] for c in (p.get("spec") or {}).get("containers") or []),
            )
            for p in listed["items"]
        ]
        return sorted(pods, key=lambda p: p.name)

    def pod_log(self, pod: str, container: str, since_seconds: int | None) -> str:
        query = [("container", container), ("timestamps", "true")]
        if since_seconds is not None:
            query.append(("sinceSeconds", str(since_seconds)))
        try:
            text = self.rest.request("GET", core_path(self.namespace, "pods", pod, "log"), query)
        except ApiError as error:
            raise LogUnavailable(api_message(error)) from error
        return text if isinstance(text, str) else ""

    def kept_logs(self, service: str) -> list[KeptLog]:
        """What the operator kept of the logs of the service's failed versions."""
        try:
            listed = self.rest.request(
                "GET",
                core_path(self.namespace, "configmaps"),
                [("labelSelector", failure_logs.selector(service))],
            )
        except ApiError as error:
            raise LogUnavailable(api_message(error)) from error
        kept = []
        for item in listed["items"]:
            version = (item["metadata"].get("labels") or {}).get(names.FAILURE_LOGS_LABEL, "")
            for key, text in sorted((item.get("data") or {}).items()):
                source = failure_logs.parse_key(key)
                if source is not None:
                    kept.append(KeptLog(version, source, text))
        return kept

    def metrics_served(self) -> bool:
        try:
            groups = self.rest.request("GET", "/apis").get("groups") or []
        except ApiError as error:
            raise CliError(f"API discovery failed: {api_message(error)}") from error
        return any(
            group.get("name") == METRICS_GROUP
            and any(v.get("version") == METRICS_VERSION for v in group.get("versions") or [])
            for group in groups
        )

    def pod_metrics(self, service: str) -> list[dict[str, Any]]:
        selector = labels.service_selector(service)
        path = apis_path(METRICS_GROUP, METRICS_VERSION, self.namespace, "pods")
        try:
            listed = self.rest.request("GET", path, [("labelSelector", selector)])
        except ApiError as error:
            raise CliError(f"metrics.k8s.io: {api_message(error)}") from error
        items: list[dict[str, Any]] = listed.get("items") or []
        return items
