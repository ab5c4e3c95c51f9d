"""`python -m berth`: run the operator (all namespaces, or BERTH_WATCH_NAMESPACES)."""

import asyncio
from typing import Any

import kopf

from berth import logs
from berth import settings as settings_module
from berth.handlers import certificates, lifecycle

HANDLER_MODULES = (lifecycle, certificates)


def main() -> None:
    config = settings_module.load()
    logs.configure(config)
    namespaces = config.watch_namespaces
    # Start-up puts the operator's parts here; a lost leader's lease sets `stop`.
    memo = kopf.Memo(stop=asyncio.Event())
    asyncio.run(
        _operator(
            standalone=True,
            clusterwide=not namespaces,
            namespaces=namespaces,
            liveness_endpoint=(
                f"http://{config.metrics_host}:{config.health_port}/healthz"
                if config.health_port
                else None
            ),
            memo=memo,
            stop_flag=memo["stop"],
        )
    )
    if memo.get("leadership_lost"):
        # Not a clean stop: the orchestrator restarts the process, which comes back as a standby.
        raise SystemExit(1)


async def _operator(**options: Any) -> None:
    asyncio.get_running_loop().set_exception_handler(logs.quiet_late_watch_closing)
    await kopf.operator(**options)


if __name__ == "__main__":
    main()
