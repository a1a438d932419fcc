"""Shared test builders. Keep fixtures small and built in code (STYLE.md §8)."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "sample_data"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-golden", action="store_true", default=False,
                     help="rewrite tests/golden/*.md from the current output")


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-golden"))


@pytest.fixture(scope="module")
def spark(tmp_path_factory):
    """A local Spark session (``local[2]``) for a test module, stopped after it. Skipped where
    pyspark, sqlglot or Java are missing — but under ``CI`` that is a failure: CI installs them."""
    import os

    from revstat.records import spark as sp

    warehouse = tmp_path_factory.mktemp("spark-warehouse")  # saveAsTable writes here, not in the cwd
    try:
        session = sp.spark_session("local[2]", conf={"spark.sql.warehouse.dir": str(warehouse)})
    except sp.SparkUnavailableError as err:  # no pyspark/sqlglot, no Java, or a Java Spark refuses
        reason = f"{err.render('en')}\n(pip install -e '.[test]' and Java 17)"
        if os.environ.get("CI"):
            pytest.fail(f"CI is set but the Spark tests cannot run: {reason}")
        pytest.skip(reason)
    yield session
    sp.stop_session()


@pytest.fixture(autouse=True)
def _chinese_messages() -> None:
    from revstat.i18n import set_lang

    set_lang("zh")


# A small hierarchy for unit tests: a city, two counties, two townships each.
CITY, A, B = "990100000000", "990101000000", "990102000000"
A1, A2, B1, B2 = "990101001000", "990101002000", "990102001000", "990102002000"


def two_county_tree():
    """示范市 → 甲县 (甲一镇, 甲二镇), 乙县 (乙一镇, 乙二镇)."""
    from revstat.regions import make_tree

    return make_tree([
        (CITY, "示范市", "city", None),
        (A, "甲县", "county", CITY), (B, "乙县", "county", CITY),
        (A1, "甲一镇", "township", A), (A2, "甲二镇", "township", A),
        (B1, "乙一镇", "township", B), (B2, "乙二镇", "township", B),
    ])
