"""logs.py: text or JSON lines, at the level asked for, each line of a reconcile with its id."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import AsyncIterator, Hashable

import pytest
from tests.unit.test_workqueue import FastQueue, settle

from berth import logs
from berth.settings import LogFormat, Settings


def captured(log_format: LogFormat) -> tuple[logging.Logger, io.StringIO]:
    stream = io.StringIO()
    handler = logs.handler_for(log_format)
    handler.setStream(stream)  # type: ignore[attr-defined]
    logger = logging.getLogger(f"test-{log_format.value}")
    logger.handlers[:] = [handler]
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    return logger, stream


def reconcile_logging(logger: logging.Logger, keys: list[Hashable]) -> None:
    """Each key handled by a real work queue, its handler writing two lines."""

    async def handle(key: Hashable) -> None:
        logger.info("start %s", key)
        await asyncio.sleep(0)
        logger.info("end %s", key)

    async def scenario() -> None:
        wq = FastQueue(handle, workers=2)
        for key in keys:
            wq.add(key)
        wq.start()
        await settle(wq)
        await wq.stop()

    asyncio.run(scenario())


def test_json_lines_carry_the_reconcile_id_and_key_of_the_pass_that_wrote_them() -> None:
    logger, stream = captured(LogFormat.JSON)

    reconcile_logging(logger, [("shop", "web"), ("shop", "api")])
    logger.warning("outside any reconcile")

    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    inside = [line for line in lines if line["message"].startswith(("start", "end"))]
    assert len(inside) == 4
    by_key: dict[str, set[str]] = {}
    for line in inside:
        by_key.setdefault(line["key"], set()).add(line["reconcile_id"])
    assert set(by_key) == {"shop/web", "shop/api"}
    assert all(len(ids) == 1 for ids in by_key.values())  # one id for both lines of a pass
    assert by_key["shop/web"] != by_key["shop/api"]
    outside = lines[-1]
    assert outside["level"] == "WARNING" and "reconcile_id" not in outside


def test_a_json_line_keeps_the_exception() -> None:
    logger, stream = captured(LogFormat.JSON)

    try:
        raise RuntimeError("the API server is away")
    except RuntimeError:
        logger.exception("reconcile failed")

    line = json.loads(stream.getvalue())
    assert line["message"] == "reconcile failed"
    assert "RuntimeError: the API server is away" in line["exception"]


def test_text_lines_name_the_key_and_pass() -> None:
    logger, stream = captured(LogFormat.TEXT)

    reconcile_logging(logger, [("shop", "web")])

    first = stream.getvalue().splitlines()[0]
    assert " [shop/web " in first and first.endswith(": start ('shop', 'web')")


def test_the_level_setting_silences_what_is_below_it() -> None:
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        logs.configure(Settings(log_level="WARNING", log_format=LogFormat.JSON))
        assert root.level == logging.WARNING
        assert not root.isEnabledFor(logging.INFO)
    finally:
        root.handlers[:], level = saved
        root.setLevel(level)


def test_a_kopf_watch_closed_late_at_shutdown_is_not_an_error_and_anything_else_is(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def infinite_watch() -> AsyncIterator[int]:
        yield 1

    async def other_stream() -> AsyncIterator[int]:
        yield 1

    loop = asyncio.new_event_loop()
    try:
        with caplog.at_level(logging.DEBUG):
            for generator in (infinite_watch(), other_stream()):
                context = {
                    "message": "an error occurred during closing of asynchronous generator",
                    "exception": RuntimeError("generator didn't stop after athrow()"),
                    "asyncgen": generator,
                }
                logs.quiet_late_watch_closing(loop, context)
    finally:
        loop.close()
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and "other_stream" in errors[0].getMessage()
    assert any(
        r.levelno == logging.DEBUG and "closed late" in r.getMessage() for r in caplog.records
    )
