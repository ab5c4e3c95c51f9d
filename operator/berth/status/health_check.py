"""Whether a kubelet probe checks exactly what a Lightsail health check's success codes say."""

from berth.api.content import parse_success_codes
from berth.api.objects import VersionObject

PROBE_SUCCESS = (200, 399)  # what a Kubernetes httpGet probe counts as healthy


def merged_ranges(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Overlapping or adjacent code ranges joined: 200-299,300-399 → 200-399."""
    merged: list[tuple[int, int]] = []
    for low, high in sorted(ranges):
        if merged and low <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], high))
        else:
            merged.append((low, high))
    return merged


def health_check_note(version: VersionObject | None) -> str | None:
    """Where successCodes asks for more than a Kubernetes probe can express, say how it differs."""
    endpoint = version.spec.public_endpoint if version else None
    if endpoint is None:
        return None
    codes = endpoint.health_check.success_codes
    if merged_ranges(parse_success_codes(codes)) == [PROBE_SUCCESS]:
        return None
    return (
        f"successCodes {codes} cannot be expressed by a Kubernetes readiness probe, "
        "which counts 200-399 as healthy and every other code as unhealthy"
    )
