"""Lightsail's API as botocore ships it: operations, their shapes, and the input validator."""

import functools
from typing import Any

from botocore.loaders import Loader
from botocore.model import OperationModel, ServiceModel, Shape
from botocore.validate import ParamValidator

SERVICE = "lightsail"
API_VERSION = "2016-11-28"


@functools.cache
def service() -> ServiceModel:
    loaded = Loader().load_service_model(SERVICE, "service-2", API_VERSION)
    return ServiceModel(loaded, service_name=SERVICE)


def target_prefix() -> str:
    prefix: str = service().metadata["targetPrefix"]
    return prefix


def operation(name: str) -> OperationModel | None:
    if name not in service().operation_names:
        return None
    return service().operation_model(name)


def problems(params: Any, shape: Shape | None) -> str | None:
    """What botocore's validator finds wrong with `params` against `shape`, else None."""
    if shape is None:
        return None if params in ({}, None) else "the operation takes no parameters"
    report = ParamValidator().validate(params, shape)
    return report.generate_report() if report.has_errors() else None


def error_names() -> set[str]:
    return {shape.name for shape in service().error_shapes}
