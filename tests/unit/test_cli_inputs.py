"""Arguments as `aws lightsail` takes them: JSON or file://, times, durations, NAME=value."""

from __future__ import annotations

import pathlib
from datetime import UTC, datetime, timedelta

import pytest

from berth.cli.errors import CliError
from berth.cli.inputs import duration, json_argument, json_list, json_object, key_values, timestamp


def test_inline_json_is_parsed() -> None:
    assert json_argument('{"web": {"image": "nginx"}}', "--containers") == {
        "web": {"image": "nginx"}
    }


@pytest.mark.parametrize("scheme", ["file://", "fileb://"])
def test_file_urls_are_read_like_the_aws_cli(tmp_path: pathlib.Path, scheme: str) -> None:
    path = tmp_path / "containers.json"
    path.write_text('{"web": {"image": "nginx"}}')
    assert json_object(f"{scheme}{path}", "--containers") == {"web": {"image": "nginx"}}


def test_a_missing_file_names_the_flag_and_the_path(tmp_path: pathlib.Path) -> None:
    with pytest.raises(CliError, match=r"--containers: cannot read .*nope\.json"):
        json_argument(f"file://{tmp_path}/nope.json", "--containers")


def test_bad_json_names_the_flag() -> None:
    with pytest.raises(CliError, match=r"--tags: not valid JSON"):
        json_argument("[{key: 1}]", "--tags")


def test_the_json_must_have_the_expected_kind() -> None:
    with pytest.raises(CliError, match="expected a JSON object, got list"):
        json_object("[]", "--containers")
    with pytest.raises(CliError, match="expected a JSON list, got dict"):
        json_list("{}", "--tags")
    assert json_list('[{"key": "a"}]', "--tags") == [{"key": "a"}]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1538424000", datetime(2018, 10, 1, 20, 0, tzinfo=UTC)),
        ("1538424000.5", datetime(2018, 10, 1, 20, 0, 0, 500000, tzinfo=UTC)),
        ("2018-10-01T20:00:00Z", datetime(2018, 10, 1, 20, 0, tzinfo=UTC)),
        ("2018-10-01T22:00:00+02:00", datetime(2018, 10, 1, 20, 0, tzinfo=UTC)),
        ("2018-10-01T20:00:00", datetime(2018, 10, 1, 20, 0, tzinfo=UTC)),
        ("2018-10-01", datetime(2018, 10, 1, tzinfo=UTC)),
    ],
)
def test_times_are_unix_seconds_or_iso_8601_and_utc_without_a_zone(
    value: str, expected: datetime
) -> None:
    assert timestamp(value, "--start-time") == expected


@pytest.mark.parametrize("value", ["yesterday", "", "nan", "1e400"])
def test_a_time_that_is_neither_is_an_error(value: str) -> None:
    with pytest.raises(CliError, match="--start-time"):
        timestamp(value, "--start-time")


@pytest.mark.parametrize(
    ("value", "seconds"),
    [("30s", 30), ("10m", 600), ("1h30m", 5400), ("2d", 172800), ("1.5h", 5400), ("500ms", 0.5)],
)
def test_durations_read_like_kubectl_since(value: str, seconds: float) -> None:
    assert duration(value, "--since") == timedelta(seconds=seconds)


@pytest.mark.parametrize("value", ["10", "m", "10 m", "10x", "-5m", ""])
def test_a_malformed_duration_is_an_error(value: str) -> None:
    with pytest.raises(CliError, match="not a duration"):
        duration(value, "--since")


def test_name_value_pairs_keep_equal_signs_and_empty_values() -> None:
    assert key_values(["A=1", "B=x=y", "C="], "--env") == {"A": "1", "B": "x=y", "C": ""}


@pytest.mark.parametrize("pair", ["A", "=1"])
def test_a_pair_without_a_name_or_sign_is_an_error(pair: str) -> None:
    with pytest.raises(CliError, match="expected NAME=value"):
        key_values([pair], "--env")
