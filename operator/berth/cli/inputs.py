"""Arguments as the AWS CLI takes them: JSON inline or `file://`, timestamps, durations."""

import json
import pathlib
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from berth.cli.errors import CliError

_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d)")
_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}


def json_argument(value: str, flag: str) -> Any:
    """`file://path`, `fileb://path` or the JSON text itself, like the AWS CLI."""
    text = value
    for scheme in ("file://", "fileb://"):
        if value.startswith(scheme):
            path = pathlib.Path(value.removeprefix(scheme)).expanduser()
            try:
                text = path.read_text(encoding="utf-8")
            except OSError as error:
                raise CliError(f"{flag}: cannot read {path}: {error.strerror}") from error
            break
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise CliError(f"{flag}: not valid JSON ({error.msg} at line {error.lineno})") from error


def json_object(value: str, flag: str) -> dict[str, Any]:
    loaded = json_argument(value, flag)
    if not isinstance(loaded, dict):
        raise CliError(f"{flag}: expected a JSON object, got {type(loaded).__name__}")
    return loaded


def json_list(value: str, flag: str) -> list[Any]:
    loaded = json_argument(value, flag)
    if not isinstance(loaded, list):
        raise CliError(f"{flag}: expected a JSON list, got {type(loaded).__name__}")
    return loaded


def timestamp(value: str, flag: str) -> datetime:
    """Unix seconds or ISO 8601; a time without a zone is UTC."""
    try:
        return datetime.fromtimestamp(float(value), UTC)
    except ValueError:
        pass
    except OverflowError as error:
        raise CliError(f"{flag}: {value!r} is out of range") from error
    try:
        parsed = datetime.fromisoformat(value.strip().replace("z", "Z"))
    except ValueError as error:
        raise CliError(f"{flag}: {value!r} is neither Unix seconds nor an ISO 8601 time") from error
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def duration(value: str, flag: str) -> timedelta:
    """A Go-style duration as kubectl's `--since` takes it: `90s`, `10m`, `1h30m`, `2d`."""
    text = value.strip()
    parts = _DURATION_PART.findall(text)
    if not text or "".join(number + unit for number, unit in parts) != text:
        raise CliError(f"{flag}: {value!r} is not a duration such as 30s, 10m, 1h30m or 2d")
    return timedelta(seconds=sum(float(number) * _UNITS[unit] for number, unit in parts))


def key_values(pairs: list[str], flag: str) -> dict[str, str]:
    """`NAME=value` pairs, the value possibly empty or holding further `=`."""
    found: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise CliError(f"{flag}: expected NAME=value, got {pair!r}")
        found[key] = value
    return found
