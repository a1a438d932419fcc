"""Reading county workbooks and CSV files into observations (see docs/sources.md).

``read_sources(ws, periods)`` → :class:`ReadResult` (observations, errors, summary).
"""

from revstat.sources.cells import to_value
from revstat.sources.read import ReadResult, ReadSummary, read_sources

__all__ = ["ReadResult", "ReadSummary", "read_sources", "to_value"]
