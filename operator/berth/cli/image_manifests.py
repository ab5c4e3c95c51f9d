"""Deleting registered images from the registry, not only their records: the manifest goes
(DELETE /v2/<repository>/manifests/<digest>); the registry's garbage collection then reclaims
the blobs no manifest names. Shared by the CLI and the Lightsail endpoint."""

from collections.abc import Callable

from berth.api.objects import ImageObject
from berth.cli.errors import CliError
from berth.cli.registry_login import RegistryLogin
from berth.oci.distribution import RegistryError
from berth.render import names


def delete_manifests(
    login: Callable[[], RegistryLogin],
    namespace: str,
    gone: list[ImageObject],
    kept: list[ImageObject],
) -> list[str]:
    """The manifests of `gone`, except those a `kept` record of the same label still names.
    Returns what could not be deleted, for a warning: the records are gone already."""
    keep = {(i.spec.service_name, i.spec.label, i.spec.digest) for i in kept}
    targets = sorted({(i.spec.service_name, i.spec.label, i.spec.digest) for i in gone} - keep)
    if not targets:
        return []
    problems = []
    try:
        with login().registry() as registry:
            for service, label, digest in targets:
                repository = names.image_repository(namespace, service, label)
                try:
                    registry.delete_manifest(repository, digest)
                except RegistryError as error:
                    problems.append(str(error))
    except (CliError, RegistryError) as error:  # no login, or no registry to reach
        problems.append(str(error))
    return problems
