"""A client of the OCI distribution API (what every registry serves under /v2/): read
manifests and blobs, push blobs and manifests, delete manifests. Basic credentials, or a bearer
token fetched from the realm a 401 names (Docker Hub's and Distribution's token auth)."""

import base64
import json
import re
import shutil
import ssl
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from typing import IO, Any

from berth.oci.image import Image, ImageError, choose, media_type_of
from berth.oci.media import ACCEPT, INDEXES, MANIFESTS

_CHALLENGE = re.compile(r'(\w+)="([^"]*)"')
TIMEOUT_SECONDS = 60.0


class RegistryError(Exception):
    """The registry refused or could not be reached; the message says which and why."""


@dataclass(frozen=True)
class Credentials:
    username: str
    password: str


@dataclass
class Registry:
    """One registry, `host[:port]`, over HTTPS (checked against `ca_file` too, when given)."""

    host: str
    credentials: Credentials | None = None
    ca_file: str | None = None
    _token: str | None = field(default=None, repr=False)

    def _context(self) -> ssl.SSLContext:
        context = ssl.create_default_context()
        if self.ca_file:
            context.load_verify_locations(self.ca_file)
        return context

    def url(self, path: str) -> str:
        return f"https://{self.host}/v2/{path}"

    def send(
        self,
        method: str,
        url: str,
        body: bytes | IO[bytes] | None = None,
        headers: dict[str, str] | None = None,
        ok: tuple[int, ...] = (200,),
    ) -> tuple[int, dict[str, str], bytes]:
        """One request; a 401 with a bearer challenge fetches a token and tries once more."""
        for attempt in range(2):
            request = urllib.request.Request(url, data=body, method=method)
            for name, value in (headers or {}).items():
                request.add_header(name, value)
            auth = self._authorization()
            if auth:
                request.add_header("Authorization", auth)
            try:
                with urllib.request.urlopen(
                    request, context=self._context(), timeout=TIMEOUT_SECONDS
                ) as answer:
                    status, got, data = answer.status, dict(answer.headers), answer.read()
            except urllib.error.HTTPError as error:
                status, got, data = error.code, dict(error.headers), error.read()
            except (urllib.error.URLError, OSError) as error:
                raise RegistryError(f"cannot reach the registry {self.host}: {error}") from error
            challenge = got.get("Www-Authenticate") or got.get("WWW-Authenticate") or ""
            if status == 401 and attempt == 0 and challenge.lower().startswith("bearer"):
                self._token = self._fetch_token(challenge)
                if body is not None and not isinstance(body, bytes):
                    body.seek(0)
                continue
            if status not in ok:
                raise RegistryError(f"{method} {url}: {status} {_errors(data)}")
            return status, got, data
        raise RegistryError(f"{method} {url}: still unauthorized with a token")

    def _authorization(self) -> str | None:
        if self._token:
            return f"Bearer {self._token}"
        if self.credentials:
            pair = f"{self.credentials.username}:{self.credentials.password}".encode()
            return "Basic " + base64.b64encode(pair).decode()
        return None

    def _fetch_token(self, challenge: str) -> str:
        params = dict(_CHALLENGE.findall(challenge))
        realm = params.pop("realm", "")
        if not realm:
            raise RegistryError(f"{self.host} asked for a token without naming where to get it")
        url = realm + "?" + urllib.parse.urlencode(params)
        request = urllib.request.Request(url)
        if self.credentials:
            pair = f"{self.credentials.username}:{self.credentials.password}".encode()
            request.add_header("Authorization", "Basic " + base64.b64encode(pair).decode())
        try:
            with urllib.request.urlopen(
                request, context=self._context(), timeout=TIMEOUT_SECONDS
            ) as answer:
                found = json.loads(answer.read())
        except (urllib.error.URLError, OSError, ValueError) as error:
            raise RegistryError(f"cannot get a token for {self.host}: {error}") from error
        return str(found.get("token") or found.get("access_token") or "")

    # --- reading ------------------------------------------------------------------------------

    def manifest(self, repository: str, reference: str) -> tuple[bytes, str]:
        _, headers, body = self.send(
            "GET", self.url(f"{repository}/manifests/{reference}"), headers={"Accept": ACCEPT}
        )
        return body, media_type_of(body, headers.get("Content-Type"))

    def has_manifest(self, repository: str, reference: str) -> bool:
        status, _, _ = self.send(
            "HEAD",
            self.url(f"{repository}/manifests/{reference}"),
            headers={"Accept": ACCEPT},
            ok=(200, 404),
        )
        return status == 200

    def open_blob(self, repository: str, digest: str) -> IO[bytes]:
        """The blob, spooled to a temporary file (layers may be larger than memory should hold)."""
        _, _, body = self.send("GET", self.url(f"{repository}/blobs/{digest}"))
        spool = tempfile.SpooledTemporaryFile(max_size=64 << 20)  # noqa: SIM115 (caller closes)
        spool.write(body)
        spool.seek(0)
        return spool

    def image(self, repository: str, reference: str) -> Image:
        """`reference` (tag or digest) as a single-platform image, this machine's from an index."""
        body, media = self.manifest(repository, reference)
        where = f"docker://{self.host}/{repository}"
        if media in INDEXES:
            chosen = choose(json.loads(body), None, where)
            body, media = self.manifest(repository, chosen["digest"])
        if media not in MANIFESTS:
            raise ImageError(f"{where}: unsupported manifest type {media!r}")
        return Image(body, media, lambda digest: self.open_blob(repository, digest))

    # --- writing ------------------------------------------------------------------------------

    def has_blob(self, repository: str, digest: str) -> bool:
        status, _, _ = self.send("HEAD", self.url(f"{repository}/blobs/{digest}"), ok=(200, 404))
        return status == 200

    def push_blob(self, repository: str, descriptor: dict[str, Any], stream: IO[bytes]) -> None:
        """A monolithic upload: POST for a session, PUT the bytes with their digest."""
        _, headers, _ = self.send("POST", self.url(f"{repository}/blobs/uploads/"), b"", ok=(202,))
        location = urllib.parse.urljoin(self.url(""), headers.get("Location") or "")
        separator = "&" if "?" in location else "?"
        target = f"{location}{separator}digest={urllib.parse.quote(descriptor['digest'])}"
        with tempfile.TemporaryFile() as spool:
            shutil.copyfileobj(stream, spool)
            spool.seek(0)
            self.send(
                "PUT",
                target,
                spool,
                {
                    "Content-Type": "application/octet-stream",
                    "Content-Length": str(descriptor["size"]),
                },
                ok=(201,),
            )

    def push(self, repository: str, image: Image, tag: str | None = None) -> str:
        """Every blob the registry lacks, then the manifest (by digest, and `tag` if given).
        Returns the manifest's digest, as the registry computed it."""
        for descriptor in image.blobs():
            if not self.has_blob(repository, descriptor["digest"]):
                with image.open_blob(descriptor["digest"]) as stream:
                    self.push_blob(repository, descriptor, stream)
        reference = tag or image.digest
        _, headers, _ = self.send(
            "PUT",
            self.url(f"{repository}/manifests/{reference}"),
            image.manifest,
            {"Content-Type": image.media_type},
            ok=(201,),
        )
        stored = headers.get("Docker-Content-Digest") or image.digest
        if stored != image.digest:
            raise RegistryError(f"the registry stored {stored}, not {image.digest}")
        return stored

    def delete_manifest(self, repository: str, digest: str) -> bool:
        """False when it was not there."""
        status, _, _ = self.send(
            "DELETE", self.url(f"{repository}/manifests/{digest}"), ok=(202, 200, 404)
        )
        return status != 404


def _errors(body: bytes) -> str:
    try:
        errors = json.loads(body).get("errors") or []
    except (ValueError, AttributeError):
        return body[:200].decode(errors="replace")
    return "; ".join(f"{e.get('code')}: {e.get('message')}" for e in errors) or "no details"
