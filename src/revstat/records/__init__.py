"""Household-level records (防返贫监测 microdata) aggregated to region-level fields.

``read_records(ws, periods, engine="auto")`` → observations (origin ``records``);
``sample_rows(ws, field_id, region, period, n=10, out=None)`` → the rows behind a count (``revstat
explain``): the first ``n`` (``None``: all) as a DataFrame, or written to the CSV file ``out``.
Nothing heavy (pandas, DuckDB, pyspark) is imported until a function runs.
"""

from __future__ import annotations

from typing import Any

__all__ = ["read_records", "sample_rows"]


def read_records(ws: Any, periods: Any, engine: str = "auto") -> Any:
    """See :func:`revstat.records.engine.read_records`."""
    from revstat.records.engine import read_records as _read

    return _read(ws, periods, engine=engine)


def sample_rows(ws: Any, field_id: str, region: str, period: str, n: int | None = 10, *, out: Any = None) -> Any:
    """See :func:`revstat.records.engine.sample_rows`."""
    from revstat.records.engine import sample_rows as _sample

    return _sample(ws, field_id, region, period, n=n, out=out)
