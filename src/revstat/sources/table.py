"""The observations of one read, collected a block at a time and made into the tidy frame once.

A block is one field of some rows of a sheet: its observations share the field, unit, period,
file, sheet and origin, and each one's region and cell follow from its row. So the text columns
are kept as integer codes into their distinct values and laid out with numpy takes at the end,
instead of a Python string per observation and column that pandas then checks one by one. The
frame is the one ``pandas.DataFrame`` makes of the full lists: the same values and dtypes.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np

from revstat.sources.excel import a1
from revstat.tidy import (
    CELL,
    FIELD,
    FILE,
    LEVEL,
    OBSERVATION_COLUMNS,
    ORIGIN,
    PERIOD,
    REGION_CODE,
    REGION_NAME,
    SHEET,
    UNIT,
    VALUE,
)

#: The columns with one value per block.
BLOCK_COLUMNS = (FIELD, PERIOD, UNIT, FILE, SHEET, ORIGIN)


class _Distinct:
    """The distinct values of a column, numbered in the order first met."""

    def __init__(self) -> None:
        self.values: list[Any] = []
        self.codes: dict[Hashable, int] = {}

    def code(self, value: Hashable) -> int:
        code = self.codes.get(value)
        if code is None:
            code = self.codes[value] = len(self.values)
            self.values.append(value)
        return code


@dataclass(frozen=True, slots=True)
class Rows:
    """Some rows of a sheet (0-based) and the region each one is for (codes into the table's regions)."""

    numbers: np.ndarray
    regions: np.ndarray


class ObservationTable:
    """Observations in blocks; :meth:`frame` gives the tidy DataFrame."""

    def __init__(self, tree: Any) -> None:
        self._tree = tree
        self._regions = _Distinct()
        self._text = {name: _Distinct() for name in BLOCK_COLUMNS}
        self._blocks: list[tuple[int, ...]] = []  # codes of the BLOCK_COLUMNS, per block
        self._columns: list[int] = []  # the sheet column of each block
        self._row_numbers: list[np.ndarray] = []
        self._row_regions: list[np.ndarray] = []
        self._values: list[Decimal | None] = []

    def rows(self, numbers: Sequence[int], codes: Sequence[str]) -> Rows:
        """The rows of a sheet at ``numbers`` (0-based), for the regions of ``codes``."""
        regions = np.fromiter(map(self._regions.code, codes), dtype=np.int64, count=len(codes))
        return Rows(np.asarray(numbers, dtype=np.int64), regions)

    def add(self, rows: Rows, kept: Sequence[int] | None, column: int, values: list[Decimal | None],
            **block: str | None) -> None:
        """The values of one field in ``column`` at ``rows`` (only those at the positions ``kept``,
        when given); ``block`` holds the value of each of :data:`BLOCK_COLUMNS`."""
        if not values:
            return
        numbers, regions = rows.numbers, rows.regions
        if kept is not None:
            numbers, regions = numbers[kept], regions[kept]
        self._blocks.append(tuple(self._text[name].code(block[name]) for name in BLOCK_COLUMNS))
        self._columns.append(column)
        self._row_numbers.append(numbers)
        self._row_regions.append(regions)
        self._values += values

    def fields(self, origin: str) -> int:
        """How many distinct fields have observations of ``origin``."""
        o, f = BLOCK_COLUMNS.index(ORIGIN), BLOCK_COLUMNS.index(FIELD)
        want = self._text[ORIGIN].codes.get(origin)
        return len({b[f] for b in self._blocks if b[o] == want})

    def has_repeats(self, origin: str) -> bool:
        """Whether a field, region and period has more than one observation of ``origin``."""
        import pandas as pd

        want = self._text[ORIGIN].codes.get(origin)
        if want is None:
            return False
        of_origin = self._per_row(self._codes(ORIGIN)) == want
        keys = (self._per_row(self._codes(FIELD)) * len(self._regions.values) + np.concatenate(self._row_regions)) \
            * len(self._text[PERIOD].values) + self._per_row(self._codes(PERIOD))
        return bool(pd.Index(keys[of_origin]).has_duplicates)

    def frame(self) -> Any:
        """The observations as a DataFrame with exactly :data:`~revstat.tidy.OBSERVATION_COLUMNS`."""
        import pandas as pd

        if not self._values:  # what pandas makes of empty lists: float64 columns (value: object)
            return pd.DataFrame({name: [] for name in OBSERVATION_COLUMNS}).astype({VALUE: object})
        columns: dict[str, Any] = {name: _text(self._text[name].values, self._per_row(self._codes(name)))
                                   for name in BLOCK_COLUMNS}
        regions = np.concatenate(self._row_regions)
        codes = self._regions.values
        columns[REGION_CODE] = _text(codes, regions)
        columns[REGION_NAME] = _text([self._tree.name(c) for c in codes], regions)
        columns[LEVEL] = _text([self._tree.level(c) for c in codes], regions)
        width = max(self._columns) + 1  # each distinct cell is named once
        cells, distinct = pd.factorize(np.concatenate(self._row_numbers) * width + self._per_row(self._columns))
        columns[CELL] = _text([a1(*divmod(int(cell), width)) for cell in distinct], cells)
        columns[VALUE] = np.fromiter(self._values, dtype=object, count=len(self._values))  # Decimal objects, never floats
        return pd.DataFrame({name: columns[name] for name in OBSERVATION_COLUMNS}, copy=False)

    def _codes(self, name: str) -> list[int]:
        """The code of each block's value of one of :data:`BLOCK_COLUMNS`."""
        i = BLOCK_COLUMNS.index(name)
        return [b[i] for b in self._blocks]

    def _per_row(self, per_block: list[int]) -> np.ndarray:
        """A number per block, repeated over the block's rows."""
        return np.repeat(np.array(per_block, dtype=np.int64), [len(n) for n in self._row_numbers])


def _text(distinct: list[Any], codes: np.ndarray) -> Any:
    """A text column from its distinct values and their codes, typed as pandas types the whole
    list (its string dtype, NaN for None; object when every value is None)."""
    import pandas as pd

    return pd.Series(distinct).array.take(codes)
