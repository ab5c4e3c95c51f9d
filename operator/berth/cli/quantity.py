"""Kubernetes resource quantities ("250m", "128974848", "129e6", "123Mi") as exact Decimals.

Written here because the kubernetes package's parser brings the whole package along, most of
a second of the CLI's start.
"""

import re
from decimal import Decimal

_BINARY = {"Ki": 1, "Mi": 2, "Gi": 3, "Ti": 4, "Pi": 5, "Ei": 6}
_DECIMAL = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}
_QUANTITY = re.compile(
    r"([+-]?(?:\d+\.?\d*|\.\d+))(?:([eE][+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE])?)"
)


def parse_quantity(text: str | int | float) -> Decimal:
    """The quantity's value in base units (cores, bytes); ValueError when it is not one."""
    if isinstance(text, int | float):
        return Decimal(str(text))
    match = _QUANTITY.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"not a Kubernetes quantity: {text!r}")
    number, exponent, suffix = match.groups()
    value = Decimal(number)
    if exponent:
        return value.scaleb(int(exponent[1:]))
    if suffix in _BINARY:
        return value * Decimal(1024) ** _BINARY[suffix]
    return value.scaleb(_DECIMAL[suffix or ""])
