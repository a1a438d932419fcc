"""The records aggregation on Spark, from the same SQL text DuckDB runs.

There is one source of truth: the records builder writes the aggregation (a GROUP BY with
FILTER clauses, COUNT(DISTINCT), DECIMAL sums) as SQL text in DuckDB's dialect. DuckDB runs it
as is; this module transpiles it with sqlglot (``read="duckdb", write="spark"``) and runs it on
a Spark session: a local master (``local[N]``), a cluster (``spark://…``, ``yarn``) or a Spark
Connect server (``sc://host:port``). Transpiling is not optional: Spark reads DuckDB's
"double-quoted" names as string literals and would silently count the wrong thing.

Only the aggregated result (one row per region) comes back to the driver (``collect`` of the
grouped rows); the household rows stay where Spark reads them (local files, ``hdfs://``,
``s3a://`` URIs, or a table of the platform's catalog).

pyspark and sqlglot are an optional extra (``pip install 'revstat[spark]'``), imported only
when the Spark engine is used; a local master also needs Java 17.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from revstat.errors import ConfigError, RevstatError, SourceError
from revstat.i18n import t
from revstat.model import Location

#: name of the temporary view the records are registered under on Spark
RECORDS_VIEW = "revstat_records"

#: DuckDB table functions that read record files; in the Spark text they become the view
_READERS = {"read_csv", "read_csv_auto", "read_parquet", "parquet_scan", "read_json",
            "read_json_auto", "read_ndjson"}

_INSTALL_FIX = t(
    "安装 Spark 扩展：pip install 'revstat[spark]'（本地运行还需要 Java 17，"
    "如 apt-get install openjdk-17-jre-headless）；或改用默认引擎 --engine duckdb",
    "install the Spark extra: pip install 'revstat[spark]' (a local master also needs Java 17, "
    "e.g. apt-get install openjdk-17-jre-headless); or use the default engine --engine duckdb")


class SparkUnavailableError(ConfigError):
    """The Spark engine was chosen but pyspark, sqlglot or Java is missing."""


@dataclass(frozen=True, slots=True)
class SparkInput:
    """Where Spark finds the records: files (as Spark sees them) or a catalog table.

    ``paths``: local paths or ``hdfs://``/``s3a://`` URIs (Spark glob patterns allowed);
    ``format``: ``csv`` or ``parquet`` (guessed from the first path when None);
    ``table``: a table name of the catalog (``db.households``) instead of files;
    ``types``: column → DuckDB type name (``DECIMAL(18,2)``) for CSV columns, which are
    otherwise read as text, exactly as the DuckDB side reads them.
    """

    paths: tuple[str, ...] = ()
    format: str | None = None
    table: str | None = None
    types: Mapping[str, str] = field(default_factory=dict)
    csv_options: Mapping[str, str] = field(default_factory=dict)
    #: how messages name the files (workspace-relative, the user's own file for a transcoded
    #: copy), one per path; the paths themselves when not given
    shown: tuple[str, ...] = ()

    @classmethod
    def for_source(cls, source: Any, root: Any, period: str,
                   paths: Sequence[Any] | None = None, types: Mapping[str, str] | None = None) -> SparkInput:
        """The input of a records source (``sources/*.yaml``, kind records) for one period.

        ``table:`` (a catalog table) wins over ``files:``. A ``files`` pattern with a scheme
        (``hdfs://…``, ``s3a://…``, ``file://…``) goes to Spark as is (Spark expands its globs);
        a workspace-relative pattern uses ``paths`` (the files the DuckDB side found) or is
        globbed under ``root``.
        """
        table = getattr(source, "table", None)
        fmt = getattr(source, "format", None)
        if table:
            return cls(table=str(table).replace("{period}", period), types=dict(types or {}))
        pattern = str(source.files).replace("{period}", period)
        if "://" in pattern:
            found: tuple[str, ...] = (pattern,)
        elif paths is not None:
            found = tuple(str(Path(p).resolve()) for p in paths)
        else:
            found = tuple(str(p.resolve()) for p in sorted(Path(root).glob(pattern)) if p.is_file())
        return cls(paths=found, format=fmt or (_guess_format(found[0]) if found else None),
                   types=dict(types or {}))

    def describe(self) -> str:
        if self.table:
            return self.table
        return ", ".join(self.paths[:3]) + (" …" if len(self.paths) > 3 else "")


# --------------------------------------------------------------------------- optional imports


def _require_sqlglot() -> Any:
    try:
        import sqlglot
    except ImportError:
        raise SparkUnavailableError(
            t("Spark 引擎需要 sqlglot，但没有安装", "the Spark engine needs sqlglot, which is not installed"),
            None, _INSTALL_FIX) from None
    return sqlglot


def require_spark(master: str | None = None) -> tuple[Any, Any]:
    """Import pyspark and sqlglot, or raise a :class:`SparkUnavailableError` saying what to
    install. A local master (or none) also needs a Java runtime."""
    sqlglot = _require_sqlglot()
    try:
        import pyspark
    except ImportError:
        raise SparkUnavailableError(
            t("Spark 引擎需要 pyspark，但没有安装", "the Spark engine needs pyspark, which is not installed"),
            None, _INSTALL_FIX) from None
    if not _is_connect(master) and not _java_found():
        raise SparkUnavailableError(
            t("找不到 Java：本地运行 Spark 需要 Java 17", "Java not found: Spark in local mode needs Java 17"),
            None, t("安装 Java 17（apt-get install openjdk-17-jre-headless）并设置 JAVA_HOME，"
                    "或用 --spark-master sc://主机:端口 连接远程 Spark",
                    "install Java 17 (apt-get install openjdk-17-jre-headless) and set JAVA_HOME, "
                    "or connect to a remote Spark with --spark-master sc://host:port"))
    return pyspark, sqlglot


def spark_available(master: str | None = None) -> bool:
    """True when the Spark engine can run here (pyspark, sqlglot and, for local, Java)."""
    try:
        require_spark(master)
    except SparkUnavailableError:
        return False
    return True


def _java_found() -> bool:
    home = os.environ.get("JAVA_HOME")
    if home and os.path.isfile(os.path.join(home, "bin", "java")):
        return True
    return shutil.which("java") is not None


def _is_connect(master: str | None) -> bool:
    return bool(master) and str(master).startswith("sc://")


# --------------------------------------------------------------------------- SQL


def to_spark_sql(duckdb_sql: str, params: Sequence[Any] | Mapping[str, Any] | None = None,
                 relation: str = RECORDS_VIEW) -> str:
    """Transpile the DuckDB-dialect aggregation to Spark SQL.

    * ``params`` (``?``/``$1`` positional or ``$name`` named) are bound as properly quoted
      literals in the syntax tree, never spliced into text;
    * a DuckDB file reader in FROM (``read_csv(…)``, ``read_parquet(…)``, ``'data/*.csv'``) is
      replaced by ``relation``, the view Spark registered for the same records;
    * identifiers keep their quoting: ``"村代码"`` becomes ```村代码``` in Spark.
    """
    sqlglot = _require_sqlglot()
    from sqlglot import exp

    if params is not None and not isinstance(params, Mapping):
        duckdb_sql = _number_placeholders(duckdb_sql)
    try:
        tree = sqlglot.parse_one(duckdb_sql, read="duckdb")
    except sqlglot.errors.ParseError as err:
        raise RevstatError(t("记录汇总的 SQL 无法解析：{e}", "the records SQL cannot be parsed: {e}", e=str(err)),
                           None, t("这是 revstat 的缺陷，请报告", "this is a bug in revstat; please report it")) from None
    if params is not None:
        tree = _bind_params(tree, params)
    for table in list(tree.find_all(exp.Table)):
        if _reads_files(table):
            alias = table.args.get("alias")
            table.replace(exp.to_table(relation).as_(alias.this) if alias is not None
                          else exp.to_table(relation))
    return tree.sql(dialect="spark")


def _reads_files(table: Any) -> bool:
    from sqlglot import exp

    inner = table.this
    if isinstance(inner, exp.ReadCSV | exp.ReadParquet):
        return True
    if isinstance(inner, exp.Func):
        name = (inner.name if isinstance(inner, exp.Anonymous) else inner.sql_name()).lower()
        return name in _READERS
    if isinstance(inner, exp.Identifier) and inner.quoted:
        name = inner.this.lower()
        return "/" in name or name.endswith((".csv", ".parquet", ".gz", ".tsv", ".json"))
    return False


def _number_placeholders(sql: str) -> str:
    """``?`` → ``$1``, ``$2`` … in textual order (found by the tokenizer, so a ``?`` inside a
    string or a quoted name is left alone); the tree's walk order is not the text's."""
    from sqlglot.dialects.duckdb import DuckDB

    spots = [tok for tok in DuckDB().tokenize(sql) if tok.text == "?" and tok.token_type.name == "PLACEHOLDER"]
    for number, tok in reversed(list(enumerate(spots, start=1))):
        sql = f"{sql[:tok.start]}${number}{sql[tok.end + 1:]}"
    return sql


def _bind_params(tree: Any, params: Sequence[Any] | Mapping[str, Any]) -> Any:
    from sqlglot import exp

    def value_of(node: Any) -> Any:
        name = node.name
        if isinstance(params, Mapping):
            if name not in params:
                raise KeyError(f"no value for SQL parameter ${name}")
            return params[name]
        return params[int(name) - 1]

    def swap(node: Any) -> Any:
        if isinstance(node, exp.Placeholder | exp.Parameter):
            return exp.convert(value_of(node))
        return node

    return tree.transform(swap)


def spark_type(duckdb_type: str) -> str:
    """A DuckDB column type (``DECIMAL(18,2)``, ``VARCHAR``, ``BIGINT``) as Spark DDL."""
    sqlglot = _require_sqlglot()
    return sqlglot.exp.DataType.build(duckdb_type, dialect="duckdb").sql(dialect="spark")


# --------------------------------------------------------------------------- session

_lock = threading.Lock()
_session: Any = None
_session_master: str | None = None
_jvm_output: Any = None  # the driver JVM's stderr (a temporary file) when revstat started that JVM


def spark_session(master: str | None = None, app_name: str = "revstat",
                  conf: Mapping[str, str] | None = None) -> Any:
    """The process's Spark session for ``master`` (created once, ~6 s for local[2]).

    ``sc://host:port`` connects to a Spark Connect server; anything else is a master URL
    (``local[N]``, ``spark://host:7077``, ``yarn``); None uses ``local[*]`` unless
    ``spark-submit`` already chose a master. ``conf`` adds Spark settings for a new session
    (e.g. ``spark.driver.memory``, ``spark.sql.warehouse.dir``).
    """
    global _session, _session_master
    require_spark(master)
    if _is_connect(master):
        _require_connect(master)  # before stopping any session this process has
    from pyspark.sql import SparkSession

    with _lock:
        if _session is not None and (master is None or _session_master == master):
            return _session  # None: whatever session this process already has
        if _session is not None:
            _session.stop()
            _session = None
        _quiet_python_logs()
        try:
            if _is_connect(master):
                builder = SparkSession.builder.remote(master)
            else:
                settings = _settings(master, app_name, conf)
                builder = SparkSession.builder
                for key, value in settings.items():
                    builder = builder.config(key, value)
            with warnings.catch_warnings():  # "PySpark does not yet fully support pandas >= 3"
                warnings.filterwarnings("ignore", category=FutureWarning, module="pyspark")
                if not _is_connect(master) and _owns_logging(conf):
                    _start_quiet_driver(settings)
                session = builder.getOrCreate()
        except SparkUnavailableError:
            raise
        except ImportError as err:  # Spark Connect needs grpcio, pyarrow, pandas …
            raise SparkUnavailableError(
                t("连接 Spark Connect 需要额外的包：{e}", "Spark Connect needs extra packages: {e}", e=str(err)),
                Location(str(master)),
                t("pip install 'pyspark[connect]'", "pip install 'pyspark[connect]'")) from None
        except Exception as err:  # JVM failed to start, master unreachable …
            raise SparkUnavailableError(
                t("无法启动 Spark（master {m}）：{e}{said}", "cannot start Spark (master {m}): {e}{said}",
                  m=str(master), e=_first_line(err), said=_jvm_said()),
                Location(str(master)),
                t("检查 --spark-master 与 Java 17；本机运行可用 local[2]",
                  "check --spark-master and Java 17; local[2] runs on this machine")) from None
        if not _is_connect(master):
            # a local master runs the executors in this JVM: a failed task logs a stack trace per
            # task, and revstat reports that failure itself (by column and row)
            session.sparkContext.setLogLevel("OFF" if _runs_here(master) else "ERROR")
        # as DuckDB: a text that is not a number fails the CAST loudly (Spark 3.5's default
        # would make it NULL and the sum silently smaller)
        session.conf.set("spark.sql.ansi.enabled", "true")
        _session, _session_master = session, master
        return session


def _settings(master: str | None, app_name: str, conf: Mapping[str, str] | None) -> dict[str, str]:
    """The Spark settings of a new (non-Connect) session; ``conf`` comes last and wins."""
    settings = {"spark.app.name": app_name}
    if master:
        settings["spark.master"] = master
    elif not _submitted():
        settings["spark.master"] = "local[*]"
    if master is None or master.startswith("local"):
        settings.update({"spark.ui.enabled": "false", "spark.ui.showConsoleProgress": "false",
                         "spark.sql.shuffle.partitions": "8"})
    settings["spark.sql.session.timeZone"] = "UTC"
    if _owns_logging(conf):  # pip's pyspark: the driver logs errors only (and to a file, below)
        log_conf = Path(__file__).with_name("log4j2.properties")
        settings["spark.driver.extraJavaOptions"] = f"-Dlog4j2.configurationFile={log_conf.as_uri()}"
    settings.update(conf or {})
    return settings


def _runs_here(master: str | None) -> bool:
    """True for a local master: the executors run in the driver's JVM, on this machine."""
    return str(master).startswith("local") if master else not _submitted()


def _owns_logging(conf: Mapping[str, str] | None) -> bool:
    """True when revstat starts the driver JVM with pip's pyspark: no platform (``SPARK_HOME``,
    spark-submit) and no ``spark.driver.extraJavaOptions`` of the caller chose its logging."""
    return not _submitted() and not os.environ.get("SPARK_HOME") and not (conf or {}).get(
        "spark.driver.extraJavaOptions")


def _start_quiet_driver(settings: Mapping[str, str]) -> None:
    """Start the driver JVM with its stderr in a temporary file, and its SparkContext (which the
    session builder then takes): the JVM's start-up lines ("WARNING: Using incubator modules",
    "Setting default log level") and executor logs never reach the terminal, where revstat's own
    message says what failed. When the JVM does not start, :func:`_jvm_said` shows its last lines.

    pyspark's ``launch_gateway(popen_kwargs=…)`` and ``SparkContext(gateway=…)`` exist for this
    (capturing the JVM's output). A JVM this process already started is reused as it is."""
    global _jvm_output
    from pyspark import SparkConf, SparkContext
    from pyspark.java_gateway import launch_gateway

    if getattr(SparkContext, "_gateway", None) is not None:
        return
    spark_conf = SparkConf(loadDefaults=False)
    for key, value in settings.items():
        spark_conf.set(key, value)
    _jvm_output = tempfile.TemporaryFile(prefix="revstat-spark-")  # noqa: SIM115 (open while the JVM runs)
    gateway = launch_gateway(spark_conf, popen_kwargs={"stderr": _jvm_output})
    SparkContext(conf=spark_conf, gateway=gateway)


def _jvm_said(lines: int = 6) -> str:
    """The last lines the driver JVM wrote to its stderr (when revstat started it), indented, to
    follow a message that it did not start; "" when there are none."""
    if _jvm_output is None or not hasattr(os, "pread"):
        return ""
    try:
        fd = _jvm_output.fileno()
        size = os.fstat(fd).st_size
        start = max(0, size - 16384)
        tail = os.pread(fd, size - start, start).decode("utf-8", errors="replace")  # the JVM's offset stays
    except (OSError, ValueError):
        return ""
    kept = [line.rstrip() for line in tail.splitlines()
            if line.strip() and not line.startswith(("WARNING: Using incubator modules", "\tat "))]
    return "".join(f"\n    {line[:300]}" for line in kept[-lines:])


def _quiet_python_logs() -> None:
    """pyspark 4 logs every failed query as a JSON line on stderr (loggers SQLQueryContextLogger
    and DataFrameQueryContextLogger) before raising it; revstat reports the error itself. Their
    own class must create them (a plain logger would break pyspark's call with extra keywords)."""
    import logging

    try:
        from pyspark.logger import PySparkLogger
    except ImportError:  # pyspark 3.5: no such loggers
        return
    for name in ("SQLQueryContextLogger", "DataFrameQueryContextLogger"):
        PySparkLogger.getLogger(name).setLevel(logging.CRITICAL + 1)


def stop_session() -> None:
    """Stop the process's Spark session (tests and benchmarks call it at the end)."""
    global _session, _session_master
    with _lock:
        if _session is not None:
            _session.stop()
        _session, _session_master = None, None


def _require_connect(master: str | None) -> None:
    """Spark Connect's client needs grpc, pyarrow …; check first (pyspark itself may exit)."""
    import importlib.util

    def found(name: str) -> bool:
        try:
            return importlib.util.find_spec(name) is not None
        except ImportError:
            return False

    missing = [m for m in ("pyarrow", "grpc", "grpc_status", "google.rpc", "zstandard") if not found(m)]
    if missing:
        raise SparkUnavailableError(
            t("连接 Spark Connect 需要额外的包：{e}", "Spark Connect needs extra packages: {e}", e=", ".join(missing)),
            Location(str(master)), t("pip install 'pyspark[connect]'", "pip install 'pyspark[connect]'"))


def _submitted() -> bool:
    """True inside a Python driver started by spark-submit: the master was chosen there."""
    return bool(os.environ.get("PYSPARK_GATEWAY_PORT"))


def _first_line(err: BaseException) -> str:
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__


# --------------------------------------------------------------------------- running


def register_records(session: Any, source: SparkInput, view: str = RECORDS_VIEW) -> None:
    """Register the records as a temporary view: nothing is read yet (Spark is lazy)."""
    where = Location(source.describe())
    try:
        if source.table:
            frame = session.table(source.table)
        else:
            if not source.paths:
                raise SourceError(t("没有要汇总的记录文件", "no record files to aggregate"), where,
                                  t("检查来源的 files 模式", "check the source's files pattern"))
            fmt = source.format or _guess_format(source.paths[0])
            frame = _read_files(session, fmt, source)
            if fmt == "csv" and source.types:
                from pyspark.sql import functions as F

                frame = frame.select(*[
                    F.col(f"`{c}`").cast(spark_type(source.types[c])).alias(c) if c in source.types
                    else F.col(f"`{c}`") for c in frame.columns])
    except RevstatError:
        raise
    except Exception as err:
        raise SourceError(t("Spark 无法读取记录：{e}", "Spark cannot read the records: {e}", e=_first_line(err)),
                          where, t("检查路径（Spark 所见的路径，如 hdfs://、s3a://）或表名",
                                   "check the paths (as Spark sees them, e.g. hdfs://, s3a://) or the table name")) from None
    frame.createOrReplaceTempView(view)


def _read_files(session: Any, fmt: str, source: SparkInput) -> Any:
    """Read record files with DuckDB's ``union_by_name`` semantics: columns matched by name
    across files, missing ones NULL. Spark's CSV reader takes the first file's header and maps
    the others by position (silently wrong when the order differs), so local CSV files are
    grouped by their header line and the groups joined by name; files behind a URI pattern are
    read at once with every header checked against the first (a clear error, never a silent
    mix-up)."""
    if fmt == "parquet":
        return session.read.option("mergeSchema", "true").parquet(*source.paths)
    # as DuckDB reads CSV: RFC 4180 quoting ("" inside quotes, never a backslash escape) and
    # line breaks inside quoted cells (multiLine: one task per file; split huge CSV exports or
    # use Parquet on a cluster)
    options = {"header": "true", "inferSchema": "false", "encoding": "UTF-8", "mode": "FAILFAST",
               "quote": '"', "escape": '"', "multiLine": "true", **source.csv_options}
    groups: dict[str, list[str]] = {}
    for path in source.paths:
        groups.setdefault(_header_line(path), []).append(path)
    if "" in groups:  # not local, or a glob: let Spark expand it, and check the headers
        return session.read.format("csv").options(enforceSchema="false", **options).load(list(source.paths))
    frames = [session.read.format("csv").options(**options).load(paths) for paths in groups.values()]
    frame = frames[0]
    for other in frames[1:]:
        frame = frame.unionByName(other, allowMissingColumns=True)
    return frame


def _header_line(path: str) -> str:
    """The first line of a local file ("" for URIs, globs and unreadable files)."""
    if "://" in path and not path.startswith("file://"):
        return ""
    local = path.removeprefix("file://")
    if any(ch in local for ch in "*?["):
        return ""
    try:
        with open(local, "rb") as fh:
            return fh.readline().decode("utf-8-sig", errors="replace").strip()
    except OSError:
        return ""


def _guess_format(path: str) -> str:
    lower = path.lower()
    if lower.endswith((".parquet", ".pq")) or lower.rstrip("/*").endswith(".parquet"):
        return "parquet"
    return "csv"


def run_spark(duckdb_sql: str, source: SparkInput, master: str | None = None,
              params: Sequence[Any] | Mapping[str, Any] | None = None,
              view: str = RECORDS_VIEW) -> Any:
    """Run the DuckDB-dialect aggregation on Spark; return the small grouped result as a
    pandas DataFrame (integers as int, DECIMAL as ``decimal.Decimal``, NULL as None).

    Example::

        sql = "SELECT village, count(*) AS n FROM read_csv('h.csv') GROUP BY village"
        df = run_spark(sql, SparkInput(paths=("hdfs:///data/h.csv",)), master="yarn")
    """
    import pandas as pd

    spark_sql = to_spark_sql(duckdb_sql, params, relation=view)
    session = spark_session(master)
    register_records(session, source, view)
    try:
        with warnings.catch_warnings():  # "PySpark does not yet fully support pandas >= 3"
            warnings.filterwarnings("ignore", category=FutureWarning, module="pyspark")
            result = session.sql(spark_sql)
            columns = list(result.columns)
            rows = result.collect()  # the grouped rows only: one per region
    except Exception as err:
        from revstat.records.spark_errors import query_error

        raise query_error(err, spark_sql, source) from None
    frame = pd.DataFrame([tuple(r) for r in rows], columns=columns, dtype=object)
    return frame


# --------------------------------------------------------------------------- remote sources


def is_remote(source: Any) -> bool:
    """True for a records source only Spark can read: ``table:`` or a ``files`` URI
    (``hdfs://…``, ``s3a://…``, ``file://…``)."""
    return bool(getattr(source, "table", None)) or "://" in str(getattr(source, "files", "") or "")


def aggregate_remote(ws: Any, plan: Any, periods: Sequence[str], engine: str = "auto") -> list[tuple[Any, ...]]:
    """Observations (tuples of :data:`revstat.tidy.OBSERVATION_COLUMNS`) of a records source
    whose rows only Spark sees; ``plan`` is :func:`revstat.records.engine.plan_source`'s.

    The periods after the first are optional (same period last year …): a path that does not
    exist for one of them gives no rows instead of an error."""
    from revstat.records import engine as reng
    from revstat.records import sql as rsql

    source = plan.source
    chosen = engine if engine != "auto" else (getattr(ws.config, "engine", "auto") or "auto")
    if chosen != "spark":
        raise ConfigError(
            t("来源 {id} 的记录在 {where}，只能用 Spark 引擎读取",
              "the records of source {id} are in {where}, which only the Spark engine reads",
              id=source.id, where=source.table or source.files),
            Location(plan.display),
            t("加 --engine spark（或在 revstat.yaml 中写 engine: spark 和 spark_master）",
              "add --engine spark (or engine: spark and spark_master in revstat.yaml)"))
    master = getattr(ws.config, "spark_master", None)
    batches = [None] if plan.period_column else [str(p) for p in periods]
    out: list[tuple[Any, ...]] = []
    for period in batches:
        spark_input = SparkInput.for_source(source, ws.root, period or "")
        label = spark_input.describe()
        fmt = plan.fmt or spark_input.format or "parquet"
        query = rsql.build_query(fmt, list(spark_input.paths) or [label], plan.region_column, plan.query_aggregates,
                                 plan.period_column, [str(p) for p in periods] if plan.period_column else ())
        try:
            frame = run_spark(query.sql, spark_input, master, query.params)
        except SourceError as err:
            text = err.what.render("en")
            missing = any(k in text for k in ("PATH_NOT_FOUND", "does not exist", "TABLE_OR_VIEW_NOT_FOUND"))
            if missing and period is not None and period != str(periods[0]):
                continue
            raise
        rows = [tuple(r) for r in frame.itertuples(index=False)]
        out += reng.checked_observations(ws, plan, list(frame.columns), rows, period, label)
    return out


def sample_remote(ws: Any, plan: Any, field_id: str, region: str, period: str, n: int = 10) -> Any:
    """Up to ``n`` household rows behind a records field of a remote source (URI or table), as
    :func:`revstat.records.engine.sample_rows` gives them for local files: only those rows are
    collected (``LIMIT n``), as text."""
    import pandas as pd

    from revstat.records import sql as rsql

    alias = next(a for a, f in plan.fields.items() if f.id == field_id)
    agg = next(a for a in plan.aggregates if a.alias == alias)
    codes = [region, *ws.regions.descendants(region)] if region in ws.regions else [region]
    spark_input = SparkInput.for_source(plan.source, ws.root, "" if plan.period_column else str(period))
    fmt = plan.fmt or spark_input.format or "parquet"
    query = rsql.sample_query(fmt, list(spark_input.paths) or [spark_input.describe()], plan.region_column,
                              codes, agg.where, (), n, plan.period_column, str(period))
    frame = run_spark(query.sql, spark_input, getattr(ws.config, "spark_master", None), query.params)
    return pd.DataFrame([[None if v is None else str(v) for v in row] for row in frame.itertuples(index=False)],
                        columns=list(frame.columns), dtype=object)
