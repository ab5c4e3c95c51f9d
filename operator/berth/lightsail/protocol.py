"""AWS JSON 1.1 framing: targets, error bodies, and answers laid out as the output shape says."""

import json
from datetime import datetime
from typing import Any

from botocore.model import Shape

CONTENT_TYPE = "application/x-amz-json-1.1"
DOCS = "https://docs.aws.amazon.com/lightsail/2016-11-28/api-reference/API_{operation}.html"


class AwsError(Exception):
    """An error as AWS JSON services send it: `__type` names it, `message` says it.

    Lightsail's own errors (NotFoundException, InvalidInputException, ...) also carry `code`,
    `docs` and `tip`; the ones raised before an operation runs (signatures, unknown targets)
    are the AWS-wide ones, which carry only a message.
    """

    def __init__(self, kind: str, message: str, status: int = 400, tip: str | None = None) -> None:
        super().__init__(message)
        self.kind, self.message, self.status, self.tip = kind, message, status, tip

    def body(self, operation: str | None, lightsail_errors: set[str]) -> dict[str, Any]:
        body: dict[str, Any] = {"__type": self.kind, "message": self.message}
        if self.kind in lightsail_errors:
            body["code"] = self.kind.removesuffix("Exception")
            if operation is not None:
                body["docs"] = DOCS.format(operation=operation)
            if self.tip:
                body["tip"] = self.tip
        return body


def not_found(message: str) -> AwsError:
    return AwsError("NotFoundException", message)


def invalid_input(message: str, tip: str | None = None) -> AwsError:
    return AwsError("InvalidInputException", message, tip=tip)


def operation_of(target: str | None, prefix: str) -> str:
    """`Lightsail_20161128.GetContainerServices` → `GetContainerServices`."""
    service, dot, operation = (target or "").partition(".")
    if service != prefix or not dot or not operation:
        raise AwsError("UnknownOperationException", f"unknown operation {target or '(none)'}")
    return operation


def parse_body(body: bytes) -> dict[str, Any]:
    """The request's JSON object; an empty body is an empty input, as botocore sends `{}`."""
    if not body.strip():
        return {}
    try:
        loaded = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise AwsError("SerializationException", f"the body is not JSON: {error}") from error
    if not isinstance(loaded, dict):
        raise AwsError("SerializationException", "the body must be a JSON object")
    return loaded


def laid_out(value: Any, shape: Shape | None) -> Any:
    """`value` as the shape puts it on the wire: timestamps in epoch seconds, None dropped."""
    if shape is None or value is None:
        return value
    if shape.type_name == "structure":
        members = shape.members
        return {
            key: laid_out(item, members.get(key)) for key, item in value.items() if item is not None
        }
    if shape.type_name == "list":
        return [laid_out(item, shape.member) for item in value]
    if shape.type_name == "map":
        inner = shape.value
        return {key: laid_out(item, inner) for key, item in value.items()}
    if shape.type_name == "timestamp":
        moment = datetime.fromisoformat(value) if isinstance(value, str) else value
        return moment.timestamp() if isinstance(moment, datetime) else moment
    return value


def encode(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()
