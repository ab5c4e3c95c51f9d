"""Where registered images are pushed, and with which credentials: the Secret the cluster's
administrator (or the dev cluster, or the chart) keeps in Berth's namespace.

Keys: `server` (host[:port]), `ca.crt` when the registry's certificate is not from a public CA,
and either
- `token.key`: the token service's signing key (docs/registered-images.md). Whoever reads it
  mints a login for one namespace, valid 12 hours, that the token service turns into tokens for
  that namespace's repositories only; or
- `username` and `password`: a registry without Berth's token service, one login for everyone.
"""

import base64
import contextlib
import pathlib
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from berth.cli.client import BerthClient, api_message
from berth.cli.errors import CliError
from berth.cli.rest import ApiError, core_path
from berth.registry_auth import logins
from berth.render import names

if TYPE_CHECKING:
    from berth.oci.distribution import Registry

DEFAULT_NAMESPACE = "berth-system"
TOKEN_KEY = "token.key"
# Lightsail's registry logins last 12 hours.
LOGIN_SECONDS = 12 * 3600


@dataclass(frozen=True)
class RegistryLogin:
    server: str
    username: str
    password: str
    ca_pem: str | None = None
    expires: int | None = None  # Unix seconds; None: the shared login, which does not expire

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


def registry_login(
    client: BerthClient, where: str | None = None, namespace: str | None = None
) -> RegistryLogin:
    """The login in Secret `where` (`namespace/name`; default berth-system/berth-registry), for
    the repositories of `namespace` (default the client's) when it holds the token key."""
    secret_namespace, _, name = (
        where or f"{DEFAULT_NAMESPACE}/{names.REGISTRY_LOGIN_SECRET}"
    ).partition("/")
    try:
        secret = client.rest.request("GET", core_path(secret_namespace, "secrets", name))
    except ApiError as error:
        if error.status == 404:
            raise CliError(
                f"this cluster has no registry for registered images (no Secret {name!r} in "
                f"{secret_namespace!r}); see docs/registered-images.md",
                404,
            ) from error
        raise CliError(f"registry login: {api_message(error)}", error.status) from error
    data = {k: base64.b64decode(v).decode() for k, v in (secret.get("data") or {}).items()}
    if not data.get("server"):
        raise CliError(f"Secret {secret_namespace}/{name} lacks server")
    if data.get(TOKEN_KEY):
        tenant = namespace or client.namespace
        expires = int(time.time()) + LOGIN_SECONDS
        login = logins.Login(tenant, None, (logins.PULL, logins.PUSH), expires)
        password = logins.mint(logins.login_key(data[TOKEN_KEY]), login)
        return RegistryLogin(data["server"], tenant, password, data.get("ca.crt"), expires)
    missing = [k for k in ("username", "password") if not data.get(k)]
    if missing:
        raise CliError(
            f"Secret {secret_namespace}/{name} lacks {TOKEN_KEY}, or {', '.join(missing)}"
        )
    return RegistryLogin(data["server"], data["username"], data["password"], data.get("ca.crt"))
