"""Independent readers for tests/it/lake.rs: reads the Parquet datasets and the Delta tables a
wecom-journal sink wrote, locally or through the S3 API, and prints one JSON document:

    {"tables": {name: {"rows": [[canonical values...], ...],   # sorted, from pyarrow's Parquet
                       "readers": {reader: "same" | "<what differs>"},
                       "delta_version": n}}}

Canonical values make every reader comparable with the Rust frames: null, booleans, strings and
floats as JSON; integers and decimals as decimal strings (exact above 2^53); dates as ISO
strings; timestamps as epoch milliseconds (a string); lists as lists.

Readers: pyarrow (Parquet dataset, Hive partitions; and a Delta log replay of our own:
protocol JSON, add/remove, files read by pyarrow), polars (Parquet), deltalake (Delta).
Usage: read_back.py [--delta-only] ROOT TABLE... where ROOT is a directory or
s3://bucket/prefix; for S3 the endpoint and credentials come from the standard AWS_*
environment. With --delta-only the Parquet datasets are not read: "rows" come from deltalake.
"""
import datetime
import decimal
import json
import os
import sys

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.fs as pafs
import pyarrow.parquet as pq

EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
PARTITION = "report_month"
DELTA_ONLY = "--delta-only" in sys.argv[1:]
ARGS = [a for a in sys.argv[1:] if a != "--delta-only"]


def canonical(value):
    if value is None or isinstance(value, (bool, str, float)):
        return value
    if isinstance(value, (int, decimal.Decimal)):
        return str(int(value))
    if isinstance(value, datetime.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=datetime.timezone.utc)
        return str((value - EPOCH) // datetime.timedelta(milliseconds=1))
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [canonical(v) for v in value]
    raise TypeError(f"unexpected value {value!r} ({type(value)})")


def rows_of(table, columns):
    table = table.select(columns)
    data = [table.column(c).to_pylist() for c in columns]
    rows = [[canonical(col[i]) for col in data] for i in range(table.num_rows)]
    rows.sort(key=lambda r: json.dumps(r, ensure_ascii=False))
    return rows


def compare(name, got, want):
    if got == want:
        return "same"
    if len(got) != len(want):
        return f"{name}: {len(got)} rows, pyarrow read {len(want)}"
    for g, w in zip(got, want):
        if g != w:
            return f"{name}: row {g} where pyarrow read {w}"
    return f"{name}: differs"


def storage():
    """(pyarrow filesystem, path prefix, polars/deltalake storage options, URL prefix)."""
    root = ARGS[0]
    if not root.startswith("s3://"):
        return pafs.LocalFileSystem(), os.path.abspath(root), {}, os.path.abspath(root)
    endpoint = os.environ["AWS_ENDPOINT_URL"]
    scheme, host = endpoint.split("://", 1)
    fs = pafs.S3FileSystem(
        access_key=os.environ["AWS_ACCESS_KEY_ID"],
        secret_key=os.environ["AWS_SECRET_ACCESS_KEY"],
        region=os.environ.get("AWS_REGION", "us-east-1"),
        endpoint_override=host,
        scheme=scheme,
    )
    options = {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": os.environ["AWS_ACCESS_KEY_ID"],
        "AWS_SECRET_ACCESS_KEY": os.environ["AWS_SECRET_ACCESS_KEY"],
        "AWS_REGION": os.environ.get("AWS_REGION", "us-east-1"),
        "AWS_ALLOW_HTTP": "true",
    }
    return fs, root[len("s3://"):].rstrip("/"), options, root.rstrip("/")


def replay_delta_log(fs, table_dir):
    """The active files of the newest version, by replaying the JSON commits (no checkpoint is
    written below 100 commits); returns (version, [(path, partition values)])."""
    log_dir = f"{table_dir}/_delta_log"
    commits = sorted(
        info.path
        for info in fs.get_file_info(pafs.FileSelector(log_dir))
        if info.path.endswith(".json")
    )
    active = {}
    for path in commits:
        with fs.open_input_stream(path) as f:
            for line in f.read().decode().splitlines():
                action = json.loads(line)
                if "add" in action:
                    add = action["add"]
                    active[add["path"]] = add.get("partitionValues") or {}
                elif "remove" in action:
                    active.pop(action["remove"]["path"], None)
    version = int(commits[-1].rsplit("/", 1)[1].split(".")[0])
    return version, sorted(active.items())


def read_replayed(fs, table_dir, columns):
    version, files = replay_delta_log(fs, table_dir)
    tables = []
    for path, partitions in files:
        t = pq.read_table(f"{table_dir}/{path}", filesystem=fs)
        tables.append(t.select([c for c in columns if c in t.column_names]))
    if not tables:
        return version, []
    return version, rows_of(pa.concat_tables(tables), columns)


def main():
    import polars as pl
    from deltalake import DeltaTable

    fs, base, options, url = storage()
    out = {}
    for table in ARGS[1:]:
        delta = DeltaTable(f"{url}/delta/{table}", storage_options=options or None)
        delta_table = delta.to_pyarrow_table()
        readers = {}
        if DELTA_ONLY:
            columns = [c for c in delta_table.column_names if c != PARTITION]
            rows = rows_of(delta_table, columns)
        else:
            dataset = ds.dataset(
                f"{base}/tables/{table}", filesystem=fs, format="parquet", partitioning="hive"
            )
            parquet = dataset.to_table()
            columns = [c for c in parquet.column_names if c != PARTITION]
            rows = rows_of(parquet, columns)
            frame = pl.read_parquet(
                f"{url}/tables/{table}/**/*.parquet",
                hive_partitioning=True,
                storage_options=options or None,
            )
            readers["polars"] = compare("polars", rows_of(frame.to_arrow(), columns), rows)
            readers["deltalake"] = compare("deltalake", rows_of(delta_table, columns), rows)
        version, replayed = read_replayed(fs, f"{base}/delta/{table}", columns)
        readers["delta_log_replay"] = compare("delta_log_replay", replayed, rows)
        if version != delta.version():
            readers["delta_log_replay"] = f"version {version}, deltalake says {delta.version()}"
        out[table] = {
            "columns": columns,
            "rows": rows,
            "readers": readers,
            "delta_version": delta.version(),
        }
    return {"tables": out}


if __name__ == "__main__":
    # Only our JSON goes to stdout, whatever the libraries print.
    stdout = os.dup(1)
    os.dup2(2, 1)
    result = main()
    sys.stdout.flush()
    with os.fdopen(stdout, "w", encoding="utf-8") as f:
        json.dump(result, f, ensure_ascii=False)
