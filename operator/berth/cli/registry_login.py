"""Where registered images are pushed, and with which credentials: the Secret the cluster's
administrator (or the dev cluster, or the chart) keeps in Berth's namespace.

Keys: `server` (host[:port]), `username`, `password`, and `ca.crt` when the registry's
certificate is not from a public CA. Whoever may read it may push: these are not per-tenant,
short-lived credentials (a token service per namespace would be).
"""

import base64
import contextlib
import pathlib
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from berth.cli.client import BerthClient, api_message
from berth.cli.errors import CliError
from berth.cli.rest import ApiError, core_path
from berth.render import names

if TYPE_CHECKING:
    from berth.oci.distribution import Registry

DEFAULT_NAMESPACE = "berth-system"


@dataclass(frozen=True)
class RegistryLogin:
    server: str
    username: str
    password: str
    ca_pem: str | None = None

    @contextlib.contextmanager
    def registry(self) -> Iterator["Registry"]:
        """A registry client; the CA (if any) in a temporary file for the TLS context."""
        from berth.oci.distribution import Credentials, Registry  # only commands that push

        credentials = Credentials(self.username, self.password)
        if not self.ca_pem:
            yield Registry(self.server, credentials)
            return
        with tempfile.TemporaryDirectory(prefix="berth-registry-") as scratch:
            ca = pathlib.Path(scratch) / "ca.crt"
            ca.write_text(self.ca_pem)
            yield Registry(self.server, credentials, str(ca))


def registry_login(client: BerthClient, where: str | None = None) -> RegistryLogin:
    """The login in Secret `where` (`namespace/name`; default berth-system/berth-registry)."""
    namespace, _, name = (where or f"{DEFAULT_NAMESPACE}/{names.REGISTRY_LOGIN_SECRET}").partition(
        "/"
    )
    try:
        secret = client.rest.request("GET", core_path(namespace, "secrets", name))
    except ApiError as error:
        if error.status == 404:
            raise CliError(
                f"this cluster has no registry for registered images (no Secret {name!r} in "
                f"{namespace!r}); see docs/registered-images.md",
                404,
            ) from error
        raise CliError(f"registry login: {api_message(error)}", error.status) from error
    data = {k: base64.b64decode(v).decode() for k, v in (secret.get("data") or {}).items()}
    missing = [k for k in ("server", "username", "password") if not data.get(k)]
    if missing:
        raise CliError(f"Secret {namespace}/{name} lacks {', '.join(missing)}")
    return RegistryLogin(data["server"], data["username"], data["password"], data.get("ca.crt"))
