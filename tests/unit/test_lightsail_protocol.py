"""AWS JSON 1.1 framing of the Lightsail endpoint, with botocore's model of Lightsail."""

import datetime as dt

import pytest

from berth.lightsail import model, protocol
from berth.lightsail.protocol import AwsError


def test_the_target_names_a_lightsail_operation() -> None:
    prefix = model.target_prefix()
    assert prefix == "Lightsail_20161128"
    assert protocol.operation_of(f"{prefix}.GetContainerServices", prefix) == "GetContainerServices"
    for target in (None, "DynamoDB_20120810.GetItem", prefix, f"{prefix}."):
        with pytest.raises(AwsError) as caught:
            protocol.operation_of(target, prefix)
        assert caught.value.kind == "UnknownOperationException"


def test_lightsail_errors_carry_code_docs_and_tip_aws_wide_ones_a_message() -> None:
    error = protocol.invalid_input("bad", tip="do this")
    assert error.body("CreateContainerService", model.error_names()) == {
        "__type": "InvalidInputException",
        "message": "bad",
        "code": "InvalidInput",
        "docs": "https://docs.aws.amazon.com/lightsail/2016-11-28/api-reference/API_CreateContainerService.html",
        "tip": "do this",
    }
    signature = AwsError("InvalidSignatureException", "no")
    assert signature.body(None, model.error_names()) == {
        "__type": "InvalidSignatureException",
        "message": "no",
    }


def test_input_is_checked_by_botocores_validator() -> None:
    shape = model.operation("CreateContainerService").input_shape  # type: ignore[union-attr]
    assert model.problems({"serviceName": "web", "power": "nano", "scale": 1}, shape) is None
    found = model.problems({"serviceName": "web", "scale": "one", "colour": 1}, shape)
    assert found is not None
    assert "power" in found and "scale" in found and "colour" in found


def test_the_body_must_be_a_json_object() -> None:
    assert protocol.parse_body(b"") == {}
    for bad in (b"[1]", b"{", b"\xff"):
        with pytest.raises(AwsError) as caught:
            protocol.parse_body(bad)
        assert caught.value.kind == "SerializationException"


def test_answers_put_timestamps_in_epoch_seconds_and_drop_nothing_else() -> None:
    shape = model.operation("GetContainerServiceDeployments").output_shape  # type: ignore[union-attr]
    created = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    answer = {
        "deployments": [
            {"version": 1, "state": "ACTIVE", "createdAt": created.isoformat(), "containers": {}}
        ]
    }
    assert protocol.laid_out(answer, shape) == {
        "deployments": [
            {"version": 1, "state": "ACTIVE", "createdAt": created.timestamp(), "containers": {}}
        ]
    }
