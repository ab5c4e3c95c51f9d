"""Generates the CustomResourceDefinitions from the models: the API's one source of truth."""

from copy import deepcopy
from typing import Any

from pydantic import BaseModel

from berth.api import limits
from berth.api.base import cel, is_dns_label
from berth.api.claim import DomainClaimSpec
from berth.api.image import ContainerImageSpec
from berth.api.power import PowerSpec
from berth.api.service import ServiceSpec, ServiceStatus
from berth.api.verification import DomainAllowListSpec
from berth.api.version import VersionSpec, VersionStatus

Schema = dict[str, Any]

_DROPPED_KEYS = {"title", "propertyNames", "$defs"}


def structural(model: type[BaseModel]) -> Schema:
    """The model's JSON schema as a Kubernetes structural OpenAPI v3 schema."""
    raw = model.model_json_schema(by_alias=True, mode="validation")
    converted: Schema = _convert(raw, raw.get("$defs", {}))
    return converted


def _convert(node: Any, defs: dict[str, Schema]) -> Any:
    if isinstance(node, list):
        return [_convert(item, defs) for item in node]
    if not isinstance(node, dict):
        return node
    node = dict(node)
    while "$ref" in node or "anyOf" in node:
        if "anyOf" in node:
            node = _drop_null_alternative(node)
        if "$ref" in node:
            target = deepcopy(defs[node.pop("$ref").rsplit("/", 1)[-1]])
            node = {**target, **node}
    if "patternProperties" in node:
        # Key syntax is checked by a CEL rule; structural schemas have no patternProperties.
        (values,) = node.pop("patternProperties").values()
        node["additionalProperties"] = values
    if node.get("default", 0) is None:
        del node["default"]
    if "exclusiveMinimum" in node:
        node["minimum"] = node.pop("exclusiveMinimum")
        node["exclusiveMinimum"] = True
    out: Schema = {}
    for key, value in node.items():
        if key in _DROPPED_KEYS:
            continue
        if key in ("properties",):
            out[key] = {name: _convert(sub, defs) for name, sub in value.items()}
        elif key in ("items", "additionalProperties") and isinstance(value, dict):
            out[key] = _convert(value, defs)
        else:
            out[key] = value
    if "enum" in out and "type" not in out:
        out["type"] = "string"
    return out


def _drop_null_alternative(node: Schema) -> Schema:
    """`X | None` is how pydantic says optional; Kubernetes says it by leaving X out of required."""
    options = [o for o in node.pop("anyOf") if o.get("type") != "null"]
    if len(options) != 1:
        raise ValueError(f"cannot express a union in a structural schema: {options}")
    return {**options[0], **node}


def without_rules(schema: Schema) -> Schema:
    """`schema` with its CEL rules and patterns left out, for status.

    Only the operator writes status, from validated models. The API server runs every rule in
    an object on every write of it, status writes included: a service's status repeats the
    containers of two versions, and their rules would cost each status write more than the
    rest of its validation.
    """
    out: Schema = {}
    for key, value in schema.items():
        if key in ("x-kubernetes-validations", "pattern"):
            continue
        if key == "properties":
            out[key] = {name: without_rules(sub) for name, sub in value.items()}
        elif key in ("items", "additionalProperties") and isinstance(value, dict):
            out[key] = without_rules(value)
        else:
            out[key] = value
    return out


def _printer(name: str, path: str, kind: str = "string", priority: int = 0) -> dict[str, Any]:
    column: dict[str, Any] = {"name": name, "type": kind, "jsonPath": path}
    if priority:
        column["priority"] = priority
    return column


_AGE = _printer("Age", ".metadata.creationTimestamp", "date")
_NAME_RULE = cel(
    is_dns_label("self.metadata.name"),
    "metadata.name must be 1-63 lowercase letters, digits or '-', "
    "starting and ending with a letter or digit",
    # No fieldPath: the API server accepts only paths into the schema, and metadata has none.
)


def _root(spec: Schema, status: Schema | None, required_spec: bool = True) -> Schema:
    properties: Schema = {
        "apiVersion": {"type": "string"},
        "kind": {"type": "string"},
        "metadata": {"type": "object"},
        "spec": spec,
    }
    if status is not None:
        properties["status"] = without_rules(status)
    root: Schema = {
        "type": "object",
        "properties": properties,
        "x-kubernetes-validations": [_NAME_RULE],
    }
    if required_spec:
        root["required"] = ["spec"]
    return root


def _crd(
    kind: str,
    plural: str,
    short: str,
    scope: str,
    schema: Schema,
    columns: list[dict[str, Any]],
    subresources: Schema,
) -> Schema:
    version: Schema = {
        "name": limits.VERSION,
        "served": True,
        "storage": True,
        "schema": {"openAPIV3Schema": schema},
        "additionalPrinterColumns": columns,
    }
    if subresources:
        version["subresources"] = subresources
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.{limits.GROUP}"},
        "spec": {
            "group": limits.GROUP,
            "scope": scope,
            "names": {
                "kind": kind,
                "listKind": f"{kind}List",
                "plural": plural,
                "singular": kind.lower(),
                "shortNames": [short],
                "categories": ["berth"],
            },
            "versions": [version],
        },
    }


def container_service_crd() -> Schema:
    schema = _root(structural(ServiceSpec), structural(ServiceStatus))
    schema["description"] = "A Lightsail-style container service: power x scale, domains, versions."
    columns = [
        _printer("State", ".status.state"),
        _printer("Power", ".spec.power"),
        _printer("Scale", ".spec.scale", "integer"),
        _printer("Ready", ".status.readyReplicas", "integer"),
        _printer("Version", ".status.currentDeployment.version", "integer"),
        _printer("URL", ".status.url"),
        _AGE,
    ]
    scale = {
        "specReplicasPath": ".spec.scale",
        "statusReplicasPath": ".status.replicas",
        "labelSelectorPath": ".status.selector",
    }
    subresources = {"status": {}, "scale": scale}
    return _crd(
        "ContainerService", "containerservices", "csvc", "Namespaced", schema, columns, subresources
    )


def container_service_deployment_crd() -> Schema:
    schema = _root(structural(VersionSpec), structural(VersionStatus))
    schema["description"] = "One immutable deployment version of a ContainerService."
    columns = [
        _printer("Service", ".spec.serviceName"),
        _printer("Version", ".status.version", "integer"),
        _printer("State", ".status.state"),
        _printer("Message", ".status.message", priority=1),
        _AGE,
    ]
    return _crd(
        "ContainerServiceDeployment",
        "containerservicedeployments",
        "csd",
        "Namespaced",
        schema,
        columns,
        {"status": {}},
    )


def container_service_power_crd() -> Schema:
    schema = _root(structural(PowerSpec), None)
    schema["description"] = "One power (node size) that services choose: vCPU, memory, price."
    columns = [
        _printer("CPU", ".spec.cpuCount", "number"),
        _printer("RAM-GB", ".spec.ramSizeInGb", "number"),
        _printer("Price", ".spec.price", "number"),
        _printer("Active", ".spec.isActive", "boolean"),
        _AGE,
    ]
    return _crd(
        "ContainerServicePower", "containerservicepowers", "cspower", "Cluster", schema, columns, {}
    )


def domain_claim_crd() -> Schema:
    schema = _root(structural(DomainClaimSpec), None)
    schema["description"] = (
        "A cluster-wide claim on one DNS name by one ContainerService; the API server's "
        "name uniqueness decides who gets a contested name."
    )
    columns = [
        _printer("Domain", ".spec.domain"),
        _printer("Purpose", ".spec.purpose"),
        _printer("Namespace", ".spec.owner.namespace"),
        _printer("Service", ".spec.owner.name"),
        _AGE,
    ]
    return _crd("DomainClaim", "domainclaims", "dclaim", "Cluster", schema, columns, {})


def domain_allow_list_crd() -> Schema:
    schema = _root(structural(DomainAllowListSpec), None)
    schema["description"] = (
        "Custom domains one namespace's services may use without proving ownership in DNS: "
        "an administrator's override, cluster-scoped so that tenants cannot write it."
    )
    columns = [
        _printer("Namespace", ".spec.namespace"),
        _AGE,
    ]
    return _crd("DomainAllowList", "domainallowlists", "dallow", "Cluster", schema, columns, {})


def container_image_crd() -> Schema:
    schema = _root(structural(ContainerImageSpec), None)
    # `<service>.<label>.<number>` has dots: the DNS-label rule of the other kinds does not
    # apply; the name must say what the spec says, so a list by name is a list by number.
    # CEL estimates `string(int)` as unbounded, so the number is read out of the name instead.
    name = "self.metadata.name"
    schema["x-kubernetes-validations"] = [
        cel(
            f"{name}.startsWith(self.spec.serviceName + '.' + self.spec.label + '.') && "
            f"{name}.split('.').size() == 3 && "
            f"{name}.split('.')[2].matches('^[1-9][0-9]{{0,8}}$') && "
            f"int({name}.split('.')[2]) == self.spec.number",
            "metadata.name must be <serviceName>.<label>.<number>",
        )
    ]
    schema["description"] = (
        "An image registered to a ContainerService, deployed as :<service>.<label>.<number>; "
        "the digest is what its pods pull."
    )
    columns = [
        _printer("Service", ".spec.serviceName"),
        _printer("Label", ".spec.label"),
        _printer("Number", ".spec.number", "integer"),
        _printer("Digest", ".spec.digest", priority=1),
        _AGE,
    ]
    return _crd("ContainerImage", "containerimages", "cimg", "Namespaced", schema, columns, {})


def all_crds() -> dict[str, Schema]:
    """File name → CRD, for `make crds`."""
    crds = [
        container_service_crd(),
        container_service_deployment_crd(),
        container_service_power_crd(),
        domain_claim_crd(),
        domain_allow_list_crd(),
        container_image_crd(),
    ]
    return {f"{crd['metadata']['name']}.yaml": crd for crd in crds}
