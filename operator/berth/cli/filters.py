"""Lightsail's log filter patterns: `ERROR`, `-ERROR`, `ERROR Exception`, `?ERROR ?Exception`.

Terms are case-sensitive, as in CloudWatch Logs. A plain term must occur, a `-term` must not,
and of the `?term`s at least one must; a term with spaces or a leading `-`/`?` is written in
double quotes (`"connection refused"`, `-"?debug"`), with `\\"` for a quote inside.
"""

from dataclasses import dataclass

from berth.cli.errors import CliError


@dataclass(frozen=True)
class LogFilter:
    required: tuple[str, ...] = ()
    excluded: tuple[str, ...] = ()
    any_of: tuple[str, ...] = ()

    def matches(self, message: str) -> bool:
        if any(term not in message for term in self.required):
            return False
        if any(term in message for term in self.excluded):
            return False
        return not self.any_of or any(term in message for term in self.any_of)


def parse_filter(pattern: str | None) -> LogFilter:
    """The filter a pattern describes; an empty or missing pattern lets everything through."""
    required: list[str] = []
    excluded: list[str] = []
    any_of: list[str] = []
    for prefix, term in _terms(pattern or ""):
        {"": required, "-": excluded, "?": any_of}[prefix].append(term)
    return LogFilter(tuple(required), tuple(excluded), tuple(any_of))


def _terms(pattern: str) -> list[tuple[str, str]]:
    terms: list[tuple[str, str]] = []
    i = 0
    while i < len(pattern):
        if pattern[i].isspace():
            i += 1
            continue
        prefix = ""
        if pattern[i] in "-?":
            prefix, i = pattern[i], i + 1
        if i < len(pattern) and pattern[i] == '"':
            term, i = _quoted(pattern, i + 1)
        else:
            start = i
            while i < len(pattern) and not pattern[i].isspace():
                i += 1
            term = pattern[start:i]
            if '"' in term:
                raise CliError(f"filter pattern {pattern!r}: a quote may only start a term")
        if not term:
            what = f"{prefix!r} must be followed by a term" if prefix else "a term is empty"
            raise CliError(f"filter pattern {pattern!r}: {what}")
        terms.append((prefix, term))
    return terms


def _quoted(pattern: str, i: int) -> tuple[str, int]:
    """The text up to the closing quote, and the position after it."""
    chars: list[str] = []
    while i < len(pattern):
        char = pattern[i]
        if char == "\\" and i + 1 < len(pattern) and pattern[i + 1] in '"\\':
            chars.append(pattern[i + 1])
            i += 2
            continue
        if char == '"':
            if i + 1 < len(pattern) and not pattern[i + 1].isspace():
                raise CliError(f"filter pattern {pattern!r}: a space must follow a quoted term")
            return "".join(chars), i + 1
        chars.append(char)
        i += 1
    raise CliError(f"filter pattern {pattern!r}: unterminated quote")
