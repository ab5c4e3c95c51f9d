"""The base model of every API object: camelCase on the wire, snake_case in Python."""

from typing import Any

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

from berth.api import limits


class ApiModel(BaseModel):
    """A part of a Berth object as Kubernetes stores it."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="ignore",
        frozen=True,
    )

    def to_wire(self) -> dict[str, Any]:
        """The JSON form Kubernetes stores, without unset optional fields."""
        return self.model_dump(by_alias=True, exclude_none=True, mode="json")


def cel(rule: str, message: str, field_path: str | None = None) -> dict[str, Any]:
    """One `x-kubernetes-validations` entry."""
    entry = {"rule": rule, "message": message}
    if field_path is not None:
        entry["fieldPath"] = field_path
    return entry


def validations(*rules: dict[str, Any]) -> dict[str, Any]:
    """A `json_schema_extra` with CEL rules, which the CRD generator carries over."""
    return {"x-kubernetes-validations": list(rules)}


def is_dns_label(expression: str) -> str:
    """A CEL condition that `expression` (a string) is a DNS label, as limits defines it."""
    return (
        f"size({expression}) <= {limits.MAX_NAME_LENGTH} && "
        f"{expression}.matches('{limits.DNS_LABEL_PATTERN}')"
    )
