"""`python -m berth`: run the operator (all namespaces, or BERTH_WATCH_NAMESPACES)."""

import asyncio

import kopf

from berth import logs
from berth import settings as settings_module
from berth.handlers import certificates, lifecycle

HANDLER_MODULES = (lifecycle, certificates)


def main() -> None:
    config = settings_module.load()
    logs.configure(config)
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
