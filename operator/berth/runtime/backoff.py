"""How long to wait before trying again, after failures in a row."""


def backoff(failures: int, cap: float) -> float:
    """One second after the first failure, doubling with each one after it, at most `cap`."""
    return min(cap, 0.5 * 2.0**failures)
