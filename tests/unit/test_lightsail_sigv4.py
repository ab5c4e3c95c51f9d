"""The endpoint's SigV4 check against requests signed by botocore's own signer."""

import datetime as dt
import json

import botocore.auth
import pytest
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from berth.lightsail import sigv4
from berth.lightsail.protocol import AwsError

SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
NOW = dt.datetime(2026, 3, 1, 12, 0, 0, tzinfo=dt.UTC)


def signed(
    body: dict[str, object], at: dt.datetime = NOW, url: str = "http://127.0.0.1:8443/"
) -> sigv4.Request:
    request = AWSRequest(
        method="POST",
        url=url,
        data=json.dumps(body).encode(),
        headers={
            "X-Amz-Target": "Lightsail_20161128.GetContainerServices",
            "Content-Type": "application/x-amz-json-1.1",
        },
    )
    signer = botocore.auth.SigV4Auth(Credentials("BKIAEXAMPLE", SECRET), "lightsail", "local")
    original = botocore.auth.get_current_datetime
    botocore.auth.get_current_datetime = lambda: at.replace(tzinfo=None)
    try:
        signer.add_auth(request)
    finally:
        botocore.auth.get_current_datetime = original
    host = url.split("/")[2]
    headers = [
        ("Host", host),
        *((k, str(v, "utf-8") if isinstance(v, bytes) else v) for k, v in request.headers.items()),
    ]
    return sigv4.Request("POST", "/", headers, request.body)


def check(request: sigv4.Request, secret: str = SECRET, now: dt.datetime = NOW) -> None:
    auth = sigv4.parse_authorization(request.header("authorization"))
    sigv4.verify(request, auth, secret, "local", now)


def refusal(request: sigv4.Request, **kwargs: object) -> AwsError:
    with pytest.raises(AwsError) as caught:
        check(request, **kwargs)  # type: ignore[arg-type]
    return caught.value


def test_a_request_botocore_signed_is_accepted() -> None:
    check(signed({"serviceName": "web"}))


def test_a_changed_body_or_wrong_secret_does_not_match() -> None:
    request = signed({"serviceName": "web"})
    tampered = sigv4.Request("POST", "/", request.headers, b'{"serviceName":"other"}')
    assert refusal(tampered).kind == "InvalidSignatureException"
    assert refusal(request, secret="wrong").message == sigv4.MISMATCH


def test_a_request_older_or_newer_than_five_minutes_has_expired() -> None:
    old = signed({}, at=NOW - dt.timedelta(minutes=5, seconds=1))
    assert refusal(old).message.startswith("Signature expired: 20260301T115459Z")
    check(signed({}, at=NOW - dt.timedelta(minutes=4, seconds=59)))
    assert "not yet current" in refusal(signed({}, at=NOW + dt.timedelta(minutes=6))).message


def test_another_region_is_refused() -> None:
    request = signed({})
    auth = sigv4.parse_authorization(request.header("authorization"))
    with pytest.raises(AwsError, match="scoped"):
        sigv4.verify(request, auth, SECRET, "eu-west-1", NOW)


def test_no_authorization_header_is_a_missing_token() -> None:
    with pytest.raises(AwsError) as caught:
        sigv4.parse_authorization(None)
    assert caught.value.kind == "MissingAuthenticationTokenException"


def test_a_signature_is_admitted_once_until_it_would_have_expired() -> None:
    guard = sigv4.ReplayGuard()
    guard.admit("abc", NOW)
    with pytest.raises(AwsError, match="already used"):
        guard.admit("abc", NOW + dt.timedelta(minutes=9))
    guard.admit("abc", NOW + dt.timedelta(minutes=11))
    guard.forget("abc")
    guard.admit("abc", NOW + dt.timedelta(minutes=11))
