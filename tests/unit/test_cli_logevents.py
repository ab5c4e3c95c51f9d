"""Pod log lines with kubelet timestamps: parsed, merged across replicas, windowed, filtered."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from tests.lightsail_model import problems, shape

from berth.cli.filters import parse_filter
from berth.cli.logevents import BadPageToken, LogEvent, event_shape, merge, page, parse_log, select

POD_A = """\
2025-01-02T03:04:05.000000001Z starting
2025-01-02T03:04:07.500000000Z ERROR cannot reach db
2025-01-02T03:04:09Z ready
"""
POD_B = """\
2025-01-02T03:04:06.250Z starting
2025-01-02T03:04:07.500000000Z ERROR cannot reach db
2025-01-02T03:04:08.999999999Z java.lang.Exception: boom
"""


def at(seconds: float) -> datetime:
    return datetime(2025, 1, 2, 3, 4, 0, tzinfo=UTC) + timedelta(seconds=seconds)


def test_each_line_is_split_into_its_timestamp_and_message() -> None:
    events = parse_log(POD_A, "web-a")
    assert events == [
        LogEvent(at(5), "starting", "web-a"),
        LogEvent(at(7.5), "ERROR cannot reach db", "web-a"),
        LogEvent(at(9), "ready", "web-a"),
    ]


def test_nanoseconds_are_cut_to_microseconds_not_rounded_up() -> None:
    (event,) = parse_log("2025-01-02T03:04:08.999999999Z x", "p")
    assert event.created_at == at(8.999999)


def test_a_zone_offset_is_kept() -> None:
    (event,) = parse_log("2025-01-02T05:04:05+02:00 hi", "p")
    assert event.created_at == at(5)
    assert event.created_at.utcoffset() == timezone(timedelta(hours=2)).utcoffset(None)


def test_a_message_keeps_its_spaces_and_may_be_empty() -> None:
    events = parse_log("2025-01-02T03:04:05Z   indented  \n2025-01-02T03:04:06Z ", "p")
    assert [e.message for e in events] == ["  indented  ", ""]


def test_a_line_without_a_timestamp_keeps_the_time_of_the_line_before() -> None:
    events = parse_log("2025-01-02T03:04:05Z Traceback:\n  File x.py\n", "p")
    assert events[1] == LogEvent(at(5), "  File x.py", "p")


def test_an_empty_log_has_no_events() -> None:
    assert parse_log("", "p") == []


def test_replicas_are_merged_by_time_and_ties_keep_pod_order() -> None:
    merged = merge([parse_log(POD_A, "web-a"), parse_log(POD_B, "web-b")])
    assert [(e.created_at, e.pod, e.message) for e in merged] == [
        (at(5), "web-a", "starting"),
        (at(6.25), "web-b", "starting"),
        (at(7.5), "web-a", "ERROR cannot reach db"),
        (at(7.5), "web-b", "ERROR cannot reach db"),
        (at(8.999999), "web-b", "java.lang.Exception: boom"),
        (at(9), "web-a", "ready"),
    ]


def test_an_out_of_order_stream_is_sorted_before_merging() -> None:
    stream = [LogEvent(at(3), "late", "p"), LogEvent(at(1), "early", "p")]
    assert [e.message for e in merge([stream, []])] == ["early", "late"]


def test_select_keeps_the_window_inclusive_and_applies_the_filter() -> None:
    merged = merge([parse_log(POD_A, "web-a"), parse_log(POD_B, "web-b")])
    chosen = select(merged, parse_filter("?ERROR ?Exception"), start=at(7.5), end=at(9))
    assert [(e.pod, e.message) for e in chosen] == [
        ("web-a", "ERROR cannot reach db"),
        ("web-b", "ERROR cannot reach db"),
        ("web-b", "java.lang.Exception: boom"),
    ]


def test_select_without_bounds_only_filters() -> None:
    merged = merge([parse_log(POD_A, "web-a")])
    assert [e.message for e in select(merged, parse_filter("-ERROR"))] == ["starting", "ready"]


def test_an_event_has_lightsails_shape() -> None:
    event = LogEvent(at(7.5), "hello", "web-a")
    assert problems(event_shape(event), shape("ContainerServiceLogEvent")) == []
    assert event_shape(event) == {
        "createdAt": "2025-01-02T03:04:07.500000+00:00",
        "message": "hello",
    }


def events_at(*seconds: float) -> list[LogEvent]:
    return [LogEvent(at(s), f"line {i}", "web-a") for i, s in enumerate(seconds)]


def all_pages(events: list[LogEvent], size: int) -> list[list[str]]:
    pages, token = [], None
    for _ in range(len(events) + 1):  # a token that does not move on would loop forever
        chosen, token = page(events, token, size)
        pages.append([e.message for e in chosen])
        if token is None:
            return pages
    raise AssertionError(f"paging did not end: {pages}")


def test_pages_hand_out_every_event_once_even_when_many_share_a_time() -> None:
    events = events_at(1, 2, 2, 2, 2, 3, 4)
    assert all_pages(events, 2) == [
        ["line 0", "line 1"],
        ["line 2", "line 3"],
        ["line 4", "line 5"],
        ["line 6"],
    ]
    assert all_pages(events, 10) == [[f"line {i}" for i in range(7)]]


def test_a_page_that_ends_at_the_last_event_has_no_next_token() -> None:
    assert page(events_at(1, 2), None, 2) == (events_at(1, 2), None)
    assert page([], None, 5) == ([], None)


def test_the_next_page_does_not_shift_when_old_lines_rotate_away_or_new_ones_arrive() -> None:
    _, token = page(events_at(1, 2, 3, 4), None, 2)
    rotated = events_at(1, 2, 3, 4, 5)[1:]  # line 0 is gone, a line 5 came
    second, _ = page(rotated, token, 2)
    assert [e.created_at for e in second] == [at(3), at(4)]


@pytest.mark.parametrize("token", ["nonsense", "e30=", "eyJhZnRlciI6ICJ4IiwgInNraXAiOiAxfQ=="])
def test_a_page_token_that_was_not_handed_out_is_refused(token: str) -> None:
    with pytest.raises(BadPageToken):
        page(events_at(1), token)
