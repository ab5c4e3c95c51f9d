"""The one error the CLI reports: a message for people, and exit status 1."""

from pydantic import ValidationError


class CliError(Exception):
    """Something the user can act on; printed as `berth: error: <message>`.

    `status` is the API server's HTTP status when it refused the call (404, 403, 409...), so
    that the Lightsail endpoint can answer with the matching AWS error.
    """

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


def describe_validation(error: ValidationError, prefix: str = "") -> str:
    """Pydantic's errors as `where: what` lines, in the API's camelCase words."""
    lines = []
    for item in error.errors():
        where = ".".join(str(part) for part in item["loc"])
        where = f"{prefix}.{where}" if prefix and where else prefix or where
        message = item["msg"].removeprefix("Value error, ")
        lines.append(f"{where}: {message}" if where else message)
    return "; ".join(lines)
