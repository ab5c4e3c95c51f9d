"""Every call the CLI makes to the API server: Berth's custom resources, pods, their logs."""

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from kubernetes import client as k8s
from kubernetes.client.rest import ApiException
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


def api_message(error: ApiException) -> str:
    """The Status message the API server sent, else the HTTP reason."""
    try:
        status = json.loads(error.body or "")
    except (TypeError, ValueError):
        status = None
    if isinstance(status, dict) and status.get("message"):
        return str(status["message"])
    return f"{error.status} {error.reason}"


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
    def __init__(self, api: Any, namespace: str) -> None:
        self.namespace = namespace
        self.api = api
        self.custom = k8s.CustomObjectsApi(api)
        self.core = k8s.CoreV1Api(api)
        self.apis = k8s.ApisApi(api)

    def _fail(self, error: ApiException, what: str) -> CliError:
        if error.status == 404:
            return CliError(f"{what} not found in namespace {self.namespace!r}", 404)
        return CliError(f"{what}: {api_message(error)}", error.status)

    # -- services ----------------------------------------------------------------------------

    def services(self) -> list[ContainerServiceObject]:
        try:
            listed = self.custom.list_namespaced_custom_object(
                limits.GROUP, limits.VERSION, self.namespace, SERVICES
            )
        except ApiException as error:
            raise self._fail(error, "container services") from error
        return sorted((parsed(parse_service, i) for i in listed["items"]), key=lambda s: s.name)

    def find_service(self, name: str) -> ContainerServiceObject | None:
        try:
            found = self.custom.get_namespaced_custom_object(
                limits.GROUP, limits.VERSION, self.namespace, SERVICES, name
            )
        except ApiException as error:
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
            created = self.custom.create_namespaced_custom_object(
                limits.GROUP, limits.VERSION, self.namespace, SERVICES, body
            )
        except ApiException as error:
            if error.status == 409:
                raise CliError(f"container service {name!r} already exists", 409) from error
            raise self._fail(error, f"container service {name!r}") from error
        return parsed(parse_service, created)

    def patch_service(self, name: str, operations: list[dict[str, Any]]) -> ContainerServiceObject:
        """A JSON patch: replaces whole maps, where a merge patch would merge them."""
        try:
            patched = self.custom.patch_namespaced_custom_object(
                limits.GROUP,
                limits.VERSION,
                self.namespace,
                SERVICES,
                name,
                operations,
                _content_type="application/json-patch+json",
            )
        except ApiException as error:
            raise self._fail(error, f"container service {name!r}") from error
        return parsed(parse_service, patched)

    def delete_service(self, name: str) -> None:
        try:
            # Foreground: the service stays, DELETING, until what it owns is gone (Lightsail
            # shows DELETING too); a background deletion would remove it at once.
            self.custom.delete_namespaced_custom_object(
                limits.GROUP,
                limits.VERSION,
                self.namespace,
                SERVICES,
                name,
                propagation_policy="Foreground",
            )
        except ApiException as error:
            raise self._fail(error, f"container service {name!r}") from error

    # -- versions ----------------------------------------------------------------------------

    def versions(self, service: str) -> list[VersionObject]:
        """The service's CSDs, numbered or not, by spec.serviceName (hand-made ones too)."""
        try:
            listed = self.custom.list_namespaced_custom_object(
                limits.GROUP, limits.VERSION, self.namespace, VERSIONS
            )
        except ApiException as error:
            raise self._fail(error, "container service deployments") from error
        found = (parsed(parse_version, i) for i in listed["items"])
        return [v for v in found if v.spec.service_name == service]

    def version(self, name: str) -> VersionObject:
        try:
            found = self.custom.get_namespaced_custom_object(
                limits.GROUP, limits.VERSION, self.namespace, VERSIONS, name
            )
        except ApiException as error:
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
            created = self.custom.create_namespaced_custom_object(
                limits.GROUP, limits.VERSION, self.namespace, VERSIONS, body
            )
        except ApiException as error:
            raise self._fail(error, f"deployment of {service!r}") from error
        return parsed(parse_version, created)

    # -- powers ------------------------------------------------------------------------------

    def powers(self) -> list[PowerObject]:
        try:
            listed = self.custom.list_cluster_custom_object(limits.GROUP, limits.VERSION, POWERS)
        except ApiException as error:
            raise self._fail(error, "container service powers") from error
        found = [parsed(parse_power, i) for i in listed["items"]]
        return sorted(found, key=lambda p: (p.spec.price, p.spec.cpu_count, p.metadata.name))

    # -- pods, logs, metrics -----------------------------------------------------------------

    def pods(self, service: str) -> list[Pod]:
        selector = labels.service_selector(service)
        try:
            listed = self.core.list_namespaced_pod(self.namespace, label_selector=selector)
        except ApiException as error:
            raise self._fail(error, f"pods of {service!r}") from error
        pods = [
            Pod(p.metadata.name, tuple(c.name for c in p.spec.containers)) for p in listed.items
        ]
        return sorted(pods, key=lambda p: p.name)

    def pod_log(self, pod: str, container: str, since_seconds: int | None) -> str:
        try:
            text: str = self.core.read_namespaced_pod_log(
                pod,
                self.namespace,
                container=container,
                timestamps=True,
                since_seconds=since_seconds,
            )
        except ApiException as error:
            raise LogUnavailable(api_message(error)) from error
        return text

    def kept_logs(self, service: str) -> list[KeptLog]:
        """What the operator kept of the logs of the service's failed versions."""
        try:
            listed = self.core.list_namespaced_config_map(
                self.namespace, label_selector=failure_logs.selector(service)
            )
        except ApiException as error:
            raise LogUnavailable(api_message(error)) from error
        kept = []
        for item in listed.items:
            version = (item.metadata.labels or {}).get(names.FAILURE_LOGS_LABEL, "")
            for key, text in sorted((item.data or {}).items()):
                source = failure_logs.parse_key(key)
                if source is not None:
                    kept.append(KeptLog(version, source, text))
        return kept

    def metrics_served(self) -> bool:
        try:
            groups = self.apis.get_api_versions().groups or []
        except ApiException as error:
            raise CliError(f"API discovery failed: {api_message(error)}") from error
        return any(
            group.name == METRICS_GROUP
            and any(v.version == METRICS_VERSION for v in group.versions or [])
            for group in groups
        )

    def pod_metrics(self, service: str) -> list[dict[str, Any]]:
        selector = labels.service_selector(service)
        try:
            listed = self.custom.list_namespaced_custom_object(
                METRICS_GROUP, METRICS_VERSION, self.namespace, "pods", label_selector=selector
            )
        except ApiException as error:
            raise CliError(f"metrics.k8s.io: {api_message(error)}") from error
        items: list[dict[str, Any]] = listed.get("items") or []
        return items
