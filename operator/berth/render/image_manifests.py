"""Which registered images' manifests leave the registry, and when their records may go.

A record carries IMAGE_FINALIZER while it exists; deleted (by the CLI, the Lightsail endpoint,
`kubectl`, or the garbage collector after its service), it stays until its manifest is deleted.
A repository is `<namespace>/<service>/<label>`, so two records share a manifest only when they
name the same label and digest: such a manifest stays while any of them is not being deleted.
"""

from collections.abc import Iterable
from dataclasses import dataclass

from berth.api.objects import ImageObject
from berth.render import names

Target = tuple[str, str, str]  # service, label, digest


@dataclass(frozen=True)
class Manifest:
    """One manifest the deleted `records` named; `delete`: no other record still names it."""

    service: str
    label: str
    digest: str
    delete: bool
    records: tuple[str, ...]

    def repository(self, namespace: str) -> str:
        return names.image_repository(namespace, self.service, self.label)


@dataclass(frozen=True)
class Cleanup:
    guard: tuple[str, ...]  # records to give the finalizer
    manifests: tuple[Manifest, ...]  # then release each one's records


def _target(image: ImageObject) -> Target:
    return image.spec.service_name, image.spec.label, image.spec.digest


def cleanup(images: Iterable[ImageObject]) -> Cleanup:
    images = list(images)
    kept = {_target(i) for i in images if not i.metadata.deleting}
    guard = sorted(
        i.metadata.name
        for i in images
        if not i.metadata.deleting and names.IMAGE_FINALIZER not in i.metadata.finalizers
    )
    waiting: dict[Target, list[str]] = {}
    for image in images:
        if image.metadata.deleting and names.IMAGE_FINALIZER in image.metadata.finalizers:
            waiting.setdefault(_target(image), []).append(image.metadata.name)
    manifests = tuple(
        Manifest(*target, target not in kept, tuple(sorted(records)))
        for target, records in sorted(waiting.items())
    )
    return Cleanup(tuple(guard), manifests)
