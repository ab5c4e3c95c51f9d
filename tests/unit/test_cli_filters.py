"""Lightsail's log filter patterns, term by term."""

from __future__ import annotations

import pytest

from berth.cli.errors import CliError
from berth.cli.filters import LogFilter, parse_filter

LINES = [
    "GET / 200",
    "ERROR database unreachable",
    "java.lang.Exception: boom",
    "ERROR Exception in handler",
    "WARN slow request",
    "error in lowercase",
]


def kept(pattern: str | None) -> list[str]:
    log_filter = parse_filter(pattern)
    return [line for line in LINES if log_filter.matches(line)]


@pytest.mark.parametrize("pattern", [None, "", "   ", "\t"])
def test_an_empty_pattern_keeps_every_event(pattern: str | None) -> None:
    assert kept(pattern) == LINES


def test_a_term_keeps_events_that_contain_it() -> None:
    assert kept("ERROR") == ["ERROR database unreachable", "ERROR Exception in handler"]


def test_terms_are_case_sensitive_like_cloudwatch() -> None:
    assert kept("error") == ["error in lowercase"]


def test_a_minus_term_excludes_events_that_contain_it() -> None:
    assert kept("-ERROR") == [
        "GET / 200",
        "java.lang.Exception: boom",
        "WARN slow request",
        "error in lowercase",
    ]


def test_several_terms_must_all_occur() -> None:
    assert kept("ERROR Exception") == ["ERROR Exception in handler"]


def test_question_mark_terms_keep_events_with_any_of_them() -> None:
    assert kept("?ERROR ?Exception") == [
        "ERROR database unreachable",
        "java.lang.Exception: boom",
        "ERROR Exception in handler",
    ]


def test_optional_and_excluded_terms_combine() -> None:
    assert kept("?ERROR ?Exception -handler") == [
        "ERROR database unreachable",
        "java.lang.Exception: boom",
    ]


def test_required_and_optional_terms_combine() -> None:
    assert kept("ERROR ?database ?handler") == [
        "ERROR database unreachable",
        "ERROR Exception in handler",
    ]


def test_a_term_matches_inside_words() -> None:
    assert kept("Except") == ["java.lang.Exception: boom", "ERROR Exception in handler"]


def test_a_quoted_term_keeps_its_spaces() -> None:
    assert parse_filter('"database unreachable"') == LogFilter(required=("database unreachable",))
    assert kept('"slow request"') == ["WARN slow request"]


def test_prefixes_apply_to_quoted_terms() -> None:
    log_filter = parse_filter('-"GET /" ?"slow request" ?"in lowercase"')
    assert log_filter == LogFilter(excluded=("GET /",), any_of=("slow request", "in lowercase"))


def test_quotes_protect_a_leading_minus_or_question_mark() -> None:
    assert parse_filter('"-v" "?x"') == LogFilter(required=("-v", "?x"))


def test_an_escaped_quote_stays_in_the_term() -> None:
    assert parse_filter(r'"say \"hi\""') == LogFilter(required=('say "hi"',))
    assert parse_filter(r'"back\\slash"') == LogFilter(required=("back\\slash",))


def test_terms_are_split_on_any_whitespace_and_keep_their_order() -> None:
    assert parse_filter("  b\ta \n -c ?d ?e ") == LogFilter(
        required=("b", "a"), excluded=("c",), any_of=("d", "e")
    )


def test_only_the_first_character_is_a_prefix() -> None:
    assert parse_filter("--x ??y a-b") == LogFilter(
        required=("a-b",), excluded=("-x",), any_of=("?y",)
    )


@pytest.mark.parametrize(
    ("pattern", "complaint"),
    [
        ('"open', "unterminated quote"),
        ('-"open', "unterminated quote"),
        ("-", "'-' must be followed by a term"),
        ("ERROR ?", "'?' must be followed by a term"),
        ('""', "a term is empty"),
        ('"a"b', "a space must follow a quoted term"),
        ('ab"c"', "a quote may only start a term"),
    ],
)
def test_a_malformed_pattern_is_an_error_that_says_why(pattern: str, complaint: str) -> None:
    with pytest.raises(CliError, match=complaint):
        parse_filter(pattern)


def test_an_excluded_term_wins_over_a_required_one() -> None:
    assert not parse_filter("ERROR -ERROR").matches("ERROR x")
