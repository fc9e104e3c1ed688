"""Reads a local output directory's Parquet datasets with each engine named on the command
line (pyarrow, polars, duckdb, pandas, spark) and prints one JSON document:

    {engine: {"version": "...", "tables": {table: {"rows": n, "types": {column: type},
              "max": {column: "decimal string"}} | {"error": "..."}}}}

`max` holds the largest value of each UInt64 column of the schema given on the command line,
as a decimal string, so the caller can check that ids above 2^53 come back exact. Every engine
gets its own process, so one that cannot start (no Java for Spark) reports an error for itself.
Usage: engines.py ROOT ENGINE TABLE:col1,col2 ...
"""
import json
import os
import sys


def run(engine, root, tables):
    def path(table):
        return os.path.join(root, "tables", table)

    out = {}
    if engine == "pyarrow":
        import pyarrow, pyarrow.parquet as pq, pyarrow.compute as pc
        version = pyarrow.__version__
        def read(table, ids):
            t = pq.read_table(path(table))
            maxes = {c: str(pc.max(t.column(c)).as_py()) for c in ids}
            return t.num_rows, {f.name: str(f.type) + ("" if f.nullable else " not null") for f in t.schema}, maxes
    elif engine == "polars":
        import polars as pl
        version = pl.__version__
        def read(table, ids):
            df = pl.read_parquet(path(table) + "/**/*.parquet", hive_partitioning=True)
            return df.height, {k: str(v) for k, v in df.schema.items()}, {c: str(df[c].max()) for c in ids}
    elif engine == "duckdb":
        import duckdb
        version = duckdb.__version__
        con = duckdb.connect(config={"autoinstall_known_extensions": False, "autoload_known_extensions": False})
        def read(table, ids):
            src = f"read_parquet('{path(table)}/**/*.parquet', hive_partitioning=true)"
            described = con.sql(f"describe select * from {src}").fetchall()
            n = con.sql(f"select count(*) from {src}").fetchall()[0][0]
            maxes = {c: str(con.sql(f"select max({c}) from {src}").fetchall()[0][0]) for c in ids}
            return n, {row[0]: row[1] for row in described}, maxes
    elif engine == "pandas":
        import pandas as pd
        version = pd.__version__
        def read(table, ids):
            # pandas' default NumPy dtypes turn a nullable UInt64 into float64 (inexact above
            # 2^53): the pyarrow backend keeps it exact.
            df = pd.read_parquet(path(table), dtype_backend="pyarrow")
            # The max of an all-null column is pandas' NA: the same "None" as the other engines.
            maxes = {c: str(None if pd.isna(df[c].max()) else df[c].max()) for c in ids}
            return len(df), {k: str(v) for k, v in df.dtypes.items()}, maxes
    elif engine == "spark":
        from pyspark.sql import SparkSession
        from pyspark.sql import functions as F
        spark = (
            SparkSession.builder.master("local[1]")
            .config("spark.ui.enabled", "false")
            .config("spark.sql.session.timeZone", "UTC")
            .getOrCreate()
        )
        spark.sparkContext.setLogLevel("ERROR")
        version = spark.version
        def read(table, ids):
            df = spark.read.parquet(path(table))
            maxes = {}
            if ids:
                row = df.agg(*[F.max(c).alias(c) for c in ids]).collect()[0]
                maxes = {c: str(row[c]) for c in ids}
            return df.count(), {f.name: f.dataType.simpleString() for f in df.schema.fields}, maxes
    else:
        raise SystemExit(f"unknown engine {engine}")
    for spec in tables:
        table, _, cols = spec.partition(":")
        ids = [c for c in cols.split(",") if c]
        try:
            n, types, maxes = read(table, ids)
            out[table] = {"rows": n, "types": types, "max": maxes}
        except Exception as e:  # reported, not raised: the caller asserts on it
            out[table] = {"error": f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"}
    return {"version": version, "tables": out}


if __name__ == "__main__":
    # Only our JSON goes to stdout: engines (the JVM above all) print to fd 1 as they please.
    stdout = os.dup(1)
    os.dup2(2, 1)
    root, engine = sys.argv[1], sys.argv[2]
    try:
        result = run(engine, root, sys.argv[3:])
    except Exception as e:
        result = {"error": f"{type(e).__name__}: {e}"}
    sys.stdout.flush()
    with os.fdopen(stdout, "w") as f:
        json.dump(result, f)
