"""Media types of image manifests and their parts, OCI's and Docker's, and the digest of bytes."""

import hashlib
from dataclasses import dataclass

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar"
DOCKER_LAYER_GZIP = "application/vnd.docker.image.rootfs.diff.tar.gzip"

INDEXES = (OCI_INDEX, DOCKER_LIST)
MANIFESTS = (OCI_MANIFEST, DOCKER_MANIFEST)
# What a registry is asked for: any single-platform manifest or an index of them.
ACCEPT = ", ".join((*MANIFESTS, *INDEXES))


def digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class Platform:
    os: str
    architecture: str

    def matches(self, descriptor: dict[str, object]) -> bool:
        found = descriptor.get("platform")
        if not isinstance(found, dict):
            return False
        return found.get("os") == self.os and found.get("architecture") == self.architecture
