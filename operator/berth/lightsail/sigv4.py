"""AWS Signature Version 4, checked on the server: the signature computed again from the
request and the key's secret, the time window, and signatures already used."""

import hashlib
import hmac
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, quote

from berth.lightsail.protocol import AwsError

ALGORITHM = "AWS4-HMAC-SHA256"
SERVICE = "lightsail"
MAX_SKEW = timedelta(minutes=5)
DATE_FORMAT = "%Y%m%dT%H%M%SZ"
MISMATCH = (
    "The request signature we calculated does not match the signature you provided. "
    "Check your AWS Secret Access Key and signing method."
)


@dataclass(frozen=True)
class Request:
    method: str
    path: str  # as sent, query included
    headers: Sequence[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        values = [v for k, v in self.headers if k.lower() == name]
        return ",".join(values) if values else None


@dataclass(frozen=True)
class Authorization:
    access_key_id: str
    date: str  # YYYYMMDD
    region: str
    service: str
    signed_headers: tuple[str, ...]
    signature: str

    @property
    def scope(self) -> str:
        return f"{self.date}/{self.region}/{self.service}/aws4_request"


def parse_authorization(header: str | None) -> Authorization:
    if not header:
        raise AwsError("MissingAuthenticationTokenException", "Missing Authentication Token", 403)
    algorithm, _, rest = header.strip().partition(" ")
    if algorithm != ALGORITHM:
        raise AwsError("IncompleteSignatureException", f"Unsupported algorithm {algorithm!r}")
    fields = dict(part.strip().partition("=")[::2] for part in rest.split(",") if "=" in part)
    credential = fields.get("Credential", "").split("/")
    if len(credential) != 5 or credential[4] != "aws4_request" or not fields.get("Signature"):
        raise AwsError(
            "IncompleteSignatureException",
            "Authorization header requires 'Credential', 'Signature' and 'SignedHeaders'",
        )
    return Authorization(
        access_key_id=credential[0],
        date=credential[1],
        region=credential[2],
        service=credential[3],
        signed_headers=tuple(fields.get("SignedHeaders", "").split(";")),
        signature=fields["Signature"],
    )


def canonical_request(request: Request, signed_headers: Sequence[str]) -> str:
    path, _, query = request.path.partition("?")
    pairs = sorted(
        (quote(k, safe="-_.~"), quote(v, safe="-_.~"))
        for k, v in parse_qsl(query, keep_blank_values=True)
    )
    headers = "".join(
        f"{name}:{' '.join((request.header(name) or '').split())}\n" for name in signed_headers
    )
    return "\n".join(
        [
            request.method,
            quote(path or "/", safe="/~"),
            "&".join(f"{k}={v}" for k, v in pairs),
            headers,
            ";".join(signed_headers),
            hashlib.sha256(request.body).hexdigest(),
        ]
    )


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def signature(secret: str, auth: Authorization, amz_date: str, canonical: str) -> str:
    to_sign = "\n".join(
        [ALGORITHM, amz_date, auth.scope, hashlib.sha256(canonical.encode()).hexdigest()]
    )
    key = _hmac(f"AWS4{secret}".encode(), auth.date)
    for part in (auth.region, auth.service, "aws4_request"):
        key = _hmac(key, part)
    return hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()


def request_time(request: Request, auth: Authorization, now: datetime) -> datetime:
    amz_date = request.header("x-amz-date") or ""
    try:
        moment = datetime.strptime(amz_date, DATE_FORMAT).replace(tzinfo=UTC)
    except ValueError as error:
        raise AwsError(
            "IncompleteSignatureException", "X-Amz-Date is missing or not YYYYMMDD'T'HHMMSS'Z'"
        ) from error
    if not amz_date.startswith(auth.date):
        raise AwsError("InvalidSignatureException", "Credential date does not match X-Amz-Date")
    stamp = now.strftime(DATE_FORMAT)
    if moment < now - MAX_SKEW:
        earliest = (now - MAX_SKEW).strftime(DATE_FORMAT)
        raise AwsError(
            "InvalidSignatureException",
            f"Signature expired: {amz_date} is now earlier than {earliest} ({stamp} - 5 min.)",
        )
    if moment > now + MAX_SKEW:
        latest = (now + MAX_SKEW).strftime(DATE_FORMAT)
        raise AwsError(
            "InvalidSignatureException",
            f"Signature not yet current: {amz_date} is still later than {latest} "
            f"({stamp} + 5 min.)",
        )
    return moment


def verify(request: Request, auth: Authorization, secret: str, region: str, now: datetime) -> None:
    """Raises the AWS error a request signed wrongly, elsewhere or at another time gets."""
    if auth.service != SERVICE or auth.region != region:
        raise AwsError(
            "InvalidSignatureException",
            f"Credential should be scoped to a valid region and service: "
            f"expected {region}/{SERVICE}, got {auth.region}/{auth.service}",
        )
    if "host" not in auth.signed_headers:
        raise AwsError("InvalidSignatureException", "The host header must be signed")
    canonical = canonical_request(request, auth.signed_headers)
    expected = signature(secret, auth, request.header("x-amz-date") or "", canonical)
    if not hmac.compare_digest(expected, auth.signature):
        raise AwsError("InvalidSignatureException", MISMATCH)
    request_time(request, auth, now)


class ReplayGuard:
    """Signatures already used, kept while their request could still pass the time check."""

    def __init__(self) -> None:
        self._seen: dict[str, datetime] = {}
        self._lock = threading.Lock()

    def admit(self, signature: str, now: datetime) -> None:
        with self._lock:
            self._seen = {s: until for s, until in self._seen.items() if until > now}
            if signature in self._seen:
                raise AwsError(
                    "InvalidSignatureException",
                    "Signature already used: a signed request that changes something is "
                    "accepted once",
                )
            # a request passes the time check up to MAX_SKEW either side of its own time
            self._seen[signature] = now + 2 * MAX_SKEW

    def forget(self, signature: str) -> None:
        with self._lock:
            self._seen.pop(signature, None)
