"""The operator's one running Context, created at startup and used by every handler."""

from berth.handlers.context import Context

_current: list[Context] = []


def install(ctx: Context) -> None:
    _current[:] = [ctx]


def context() -> Context:
    if not _current:
        raise RuntimeError("the operator has not started")
    return _current[0]
