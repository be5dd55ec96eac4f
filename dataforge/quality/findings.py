"""Findings: the problems a report found, ranked so the worst is read first.

Each section of the report turns its numbers into findings; a finding says
what is wrong, how many rows, and which rows (ids) show it, so a person can
go and look. `code` is stable, for scripts that read the JSON.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

SEVERITIES = ("high", "medium", "low", "info")
EXAMPLES = 5  # example ids kept per finding


@dataclass
class Finding:
    code: str  # stable name, e.g. "exact_duplicates"
    severity: str  # high: fix before training; medium: likely hurts; low: worth a look; info
    title: str
    detail: str = ""
    count: int = 0  # rows (or pairs) concerned
    share: float = 0.0  # of the rows read
    examples: list[str] = field(default_factory=list)  # row ids
    section: str = ""  # anchor of the report section with the numbers
    field: str | None = None

    def __post_init__(self):
        if self.severity not in SEVERITIES:
            raise ValueError(f"unknown severity {self.severity!r}")
        self.examples = [str(e) for e in self.examples[:EXAMPLES]]

    def to_dict(self) -> dict:
        return asdict(self)


def rank(findings: list[Finding]) -> list[Finding]:
    """Worst first: by severity, then by the share of rows concerned."""
    return sorted(findings, key=lambda f: (SEVERITIES.index(f.severity), -f.share, -f.count, f.code))


def plural(n: int, word: str = "row") -> str:
    """`1 row`, `2 rows`, `1,200 pairs`."""
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def by_rate(count: int, rows: int, *, high: float, medium: float, low: str = "low") -> str:
    """A severity from the share of rows concerned (thresholds are shares, e.g. 0.05)."""
    rate = count / rows if rows else 0.0
    if rate >= high:
        return "high"
    if rate >= medium:
        return "medium"
    return low


def ids_where(frame, mask, limit: int = EXAMPLES) -> list[str]:
    """The first `limit` ids of the rows where a boolean polars Series/expression is true."""
    import polars as pl

    if isinstance(mask, pl.Expr):
        picked = frame.lazy().filter(mask).select("id").head(limit).collect()
    else:
        picked = frame.filter(mask).select("id").head(limit)
    return picked["id"].to_list()
