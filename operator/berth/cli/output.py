"""What a command prints: JSON like the AWS CLI, YAML, or a table for people."""

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

Format = Literal["json", "yaml", "table"]
FORMATS: tuple[Format, ...] = ("json", "yaml", "table")
MISSING = "-"


@dataclass(frozen=True)
class Output:
    """`data` for json and yaml (None prints nothing); `text` is the human form."""

    data: dict[str, Any] | None
    text: str | None = None
    default: Format = "json"


def render(output: Output, chosen: Format | None) -> str | None:
    """The text to print on stdout, or None when there is nothing to print."""
    fmt = chosen or output.default
    if fmt == "table" and output.text is not None:
        return output.text
    if output.data is None:
        return None
    if fmt == "yaml":
        import yaml  # only for -o yaml: it costs every other command start time

        dumped: str = yaml.safe_dump(output.data, sort_keys=False, allow_unicode=True)
        return dumped.rstrip("\n")
    return json.dumps(output.data, indent=4, ensure_ascii=False)


def table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """Columns aligned like `kubectl get`; empty cells show as `-`."""
    cells = [[_cell(value) for value in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in cells:
        widths = [max(w, len(c)) for w, c in zip(widths, row, strict=True)]
    lines = [headers, *cells]
    return "\n".join(
        "   ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip() for line in lines
    )


def _cell(value: object) -> str:
    if value is None or value == "":
        return MISSING
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
