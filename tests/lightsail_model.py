"""What `aws lightsail` would print, from botocore's Lightsail model rather than from our own
reading of it: a value is checked member for member (names, types, enum values) against a shape."""

from __future__ import annotations

from typing import Any

from botocore.model import Shape
from botocore.validate import ParamValidator

from berth.lightsail import model

# Enums Berth leaves open, on purpose: the region is a chart value naming the cluster's own
# region (`local` by default), not one of AWS's (the spec: "region and baseDomain are chart
# values").
OPEN_ENUMS = frozenset({"RegionName"})


def shape(name: str) -> Shape:
    found: Shape = model.service().shape_for(name)
    return found


def operation_name(verb: str) -> str:
    """`get-container-services` → GetContainerServices."""
    return "".join(word.title() for word in verb.split("-"))


def is_operation(verb: str) -> bool:
    return model.operation(operation_name(verb)) is not None


def output_shape(verb: str) -> Shape:
    """The output of `aws lightsail <verb>`."""
    operation = model.operation(operation_name(verb))
    assert operation is not None and operation.output_shape is not None, verb
    return operation.output_shape


def problems(value: Any, against: Shape) -> list[str]:
    """Unknown keys and wrong types (botocore's validator, which walks any shape) plus enum values
    the model does not list (which the validator leaves alone)."""
    found: list[str] = []
    report = ParamValidator().validate(value, against)
    if report.has_errors():
        found.append(report.generate_report())
    found += enum_problems(value, against, against.name)
    return found


def enum_problems(value: Any, against: Shape, where: str) -> list[str]:
    if against.type_name == "structure" and isinstance(value, dict):
        return [
            problem
            for key, item in value.items()
            if key in against.members
            for problem in enum_problems(item, against.members[key], f"{where}.{key}")
        ]
    if against.type_name == "list" and isinstance(value, list):
        member: Shape = against.member  # type: ignore[attr-defined]
        return [p for i, v in enumerate(value) for p in enum_problems(v, member, f"{where}[{i}]")]
    if against.type_name == "map" and isinstance(value, dict):
        keys: Shape = against.key  # type: ignore[attr-defined]
        values: Shape = against.value  # type: ignore[attr-defined]
        return [
            problem
            for key, item in value.items()
            for problem in [
                *enum_problems(key, keys, f"{where} key"),
                *enum_problems(item, values, f"{where}[{key}]"),
            ]
        ]
    allowed = getattr(against, "enum", None)
    if allowed and against.name not in OPEN_ENUMS and value not in allowed:
        return [f"{where}: {value!r} is not one of {allowed}"]
    return []
