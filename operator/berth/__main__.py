"""`python -m berth`: run the operator (all namespaces, or BERTH_WATCH_NAMESPACES)."""

import asyncio
import logging

import kopf

from berth import settings as settings_module
from berth.handlers import certificates, lifecycle

HANDLER_MODULES = (lifecycle, certificates)


def main() -> None:
    config = settings_module.load()
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # kopf logs every handler call at INFO: thousands of lines that say nothing at scale.
    logging.getLogger("kopf.objects").setLevel(logging.WARNING)
    namespaces = config.watch_namespaces
    asyncio.run(
        kopf.operator(
            standalone=True,
            clusterwide=not namespaces,
            namespaces=namespaces,
            liveness_endpoint=(
                f"http://{config.metrics_host}:{config.health_port}/healthz"
                if config.health_port
                else None
            ),
        )
    )


if __name__ == "__main__":
    main()
