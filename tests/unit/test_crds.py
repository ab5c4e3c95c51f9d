"""The generated CRDs: committed copies are fresh, schemas are structural, names and columns fit."""

from __future__ import annotations

import pathlib
from collections.abc import Iterator
from typing import Any

import pytest
import yaml

from berth.api import crd, limits
from berth.generate import generated_files

REPO = pathlib.Path(__file__).resolve().parents[2]
Schema = dict[str, Any]

CRDS = crd.all_crds()
SERVICE = CRDS["containerservices.berth.dev.yaml"]
VERSION = CRDS["containerservicedeployments.berth.dev.yaml"]
POWER = CRDS["containerservicepowers.berth.dev.yaml"]

# Keys that OpenAPI allows but a Kubernetes structural schema does not.
FORBIDDEN_KEYS = ("$ref", "$defs", "anyOf", "oneOf", "allOf", "title", "propertyNames")
# Keys whose value is one child schema (besides each entry of `properties`).
CHILD_SCHEMAS = ("items", "additionalProperties")


def openapi(definition: Schema) -> Schema:
    (version,) = definition["spec"]["versions"]
    schema: Schema = version["schema"]["openAPIV3Schema"]
    return schema


def nodes(schema: Schema, path: str = "") -> Iterator[tuple[str, Schema]]:
    """Every schema node with its path; property names are never mistaken for keywords."""
    yield path or ".", schema
    for name, child in schema.get("properties", {}).items():
        yield from nodes(child, f"{path}.{name}")
    for key in CHILD_SCHEMAS:
        if isinstance(schema.get(key), dict):
            yield from nodes(schema[key], f"{path}[{key}]")


BY_KIND = [pytest.param(d, id=d["spec"]["names"]["kind"]) for d in CRDS.values()]


# -- generated files ---------------------------------------------------------------------------


def test_committed_generated_files_equal_a_fresh_generation() -> None:
    stale = [
        str(path.relative_to(REPO))
        for path, content in generated_files(REPO).items()
        if not path.exists() or path.read_text() != content
    ]

    assert stale == [], "run `make crds` and commit the result"


def test_generation_covers_every_kind_in_both_places_and_the_default_powers() -> None:
    written = {str(path.relative_to(REPO)) for path in generated_files(REPO)}

    assert written == {
        *(f"crds/{name}" for name in CRDS),
        *(f"charts/berth/crds/{name}" for name in CRDS),
        "manifests/powers.yaml",
        "charts/berth/templates/powers.yaml",
    }


def test_default_powers_manifest_lists_the_six_lightsail_powers() -> None:
    documents = list(yaml.safe_load_all((REPO / "manifests" / "powers.yaml").read_text()))

    assert [(d["kind"], d["metadata"]["name"]) for d in documents] == [
        ("ContainerServicePower", name)
        for name in ("nano", "micro", "small", "medium", "large", "xlarge")
    ]
    assert all(d["apiVersion"] == limits.API_VERSION for d in documents)


# -- structural schemas ------------------------------------------------------------------------


@pytest.mark.parametrize("definition", BY_KIND)
def test_every_schema_node_is_structural(definition: Schema) -> None:
    problems = []
    for path, node in nodes(openapi(definition)):
        if "type" not in node and any(key in node for key in ("properties", *CHILD_SCHEMAS)):
            problems.append(f"{path}: no type")
        problems += [f"{path}: {key}" for key in FORBIDDEN_KEYS if key in node]
        if "properties" in node and "additionalProperties" in node:
            problems.append(f"{path}: both properties and additionalProperties")

    assert problems == []


@pytest.mark.parametrize("definition", BY_KIND)
def test_every_cel_rule_has_a_message(definition: Schema) -> None:
    rules = [
        rule
        for _, node in nodes(openapi(definition))
        for rule in node.get("x-kubernetes-validations", [])
    ]

    assert rules
    assert all(rule["rule"].strip() and rule["message"].strip() for rule in rules)


@pytest.mark.parametrize("definition", BY_KIND)
def test_root_checks_the_object_name_and_requires_spec(definition: Schema) -> None:
    root = openapi(definition)

    assert root["required"] == ["spec"]
    assert root["properties"]["metadata"] == {"type": "object"}
    (name_rule,) = root["x-kubernetes-validations"]
    assert "self.metadata.name" in name_rule["rule"]


@pytest.mark.parametrize("definition", [SERVICE, VERSION], ids=["ContainerService", "Version"])
def test_status_carries_no_rules_while_spec_keeps_them(definition: Schema) -> None:
    properties = openapi(definition)["properties"]

    def checks(schema: Schema) -> list[str]:
        return [
            path
            for path, node in nodes(schema)
            if "x-kubernetes-validations" in node or "pattern" in node
        ]

    assert checks(properties["status"]) == []
    assert checks(properties["spec"]) != []
    # The service's status repeats version content whose spec form has rules: types stay.
    if definition is SERVICE:
        current = properties["status"]["properties"]["currentDeployment"]
        assert current["properties"]["containers"]["maxProperties"] == limits.MAX_CONTAINERS


def test_container_service_deployment_spec_is_immutable() -> None:
    spec = openapi(VERSION)["properties"]["spec"]

    assert "self == oldSelf" in [rule["rule"] for rule in spec["x-kubernetes-validations"]]
    assert spec["required"] == ["containers", "serviceName"]


# -- names, subresources, columns --------------------------------------------------------------


@pytest.mark.parametrize(
    ("definition", "kind", "short", "scope"),
    [
        pytest.param(SERVICE, "ContainerService", "csvc", "Namespaced", id="service"),
        pytest.param(VERSION, "ContainerServiceDeployment", "csd", "Namespaced", id="version"),
        pytest.param(POWER, "ContainerServicePower", "cspower", "Cluster", id="power"),
    ],
)
def test_kinds_have_their_short_name_scope_and_the_berth_category(
    definition: Schema, kind: str, short: str, scope: str
) -> None:
    spec = definition["spec"]

    assert spec["group"] == limits.GROUP
    assert spec["scope"] == scope
    assert spec["names"]["kind"] == kind
    assert spec["names"]["shortNames"] == [short]
    assert spec["names"]["categories"] == ["berth"]
    (version,) = spec["versions"]
    assert (version["name"], version["served"], version["storage"]) == (limits.VERSION, True, True)


def test_container_service_scales_on_spec_scale_and_has_a_status_subresource() -> None:
    (version,) = SERVICE["spec"]["versions"]

    assert version["subresources"] == {
        "status": {},
        "scale": {
            "specReplicasPath": ".spec.scale",
            "statusReplicasPath": ".status.replicas",
            "labelSelectorPath": ".status.selector",
        },
    }


def test_container_service_deployment_has_a_status_subresource() -> None:
    (version,) = VERSION["spec"]["versions"]

    assert version["subresources"] == {"status": {}}


def test_container_service_printer_columns() -> None:
    (version,) = SERVICE["spec"]["versions"]

    columns = [(c["name"], c["jsonPath"]) for c in version["additionalPrinterColumns"]]

    assert columns == [
        ("State", ".status.state"),
        ("Power", ".spec.power"),
        ("Scale", ".spec.scale"),
        ("Ready", ".status.readyReplicas"),
        ("Version", ".status.currentDeployment.version"),
        ("URL", ".status.url"),
        ("Age", ".metadata.creationTimestamp"),
    ]


@pytest.mark.parametrize("definition", BY_KIND)
def test_printer_columns_point_at_schema_fields_of_their_type(definition: Schema) -> None:
    (version,) = definition["spec"]["versions"]
    for column in version["additionalPrinterColumns"]:
        if column["jsonPath"].startswith(".metadata."):
            continue
        node = openapi(definition)
        for part in column["jsonPath"].lstrip(".").split("."):
            node = node["properties"][part]
        assert node["type"] == column["type"], column["name"]
