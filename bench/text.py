"""Plain-text tables for the benchmarks' output."""

from __future__ import annotations


def columns(rows: list[list[str]]) -> str:
    """`rows` with each column left-aligned to its widest cell."""
    width = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(cell.ljust(w) for cell, w in zip(row, width, strict=True)) for row in rows
    )
