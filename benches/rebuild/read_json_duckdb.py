"""DuckDB's side of `cargo bench --bench rebuild` (benches/rebuild/main.rs runs it; see docs/benchmarks.md).

    python3 benches/rebuild/read_json_duckdb.py DETAILS.jsonl OUT_DIR [THREADS]

Reads the raw detail JSON of the bench's store (one `info` object a line: the exact texts
`rebuild` decodes) with `read_json` into a temporary table, then writes three of our tables to
zstd Parquet with `unnest`: `journals` (counts of receivers, readers and comments; no
department, which needs the directory), `journal_controls` (top-level controls only: DuckDB does
not walk into Table cells here, nor render values) and `journal_comments`. Prints one JSON line:
the DuckDB version, the seconds from `connect` to the last file written (interpreter start-up
and `import duckdb` excluded), and the rows of each table.

(Not named `duckdb.py`: the script's own directory comes first on `sys.path`, and the script
would import itself instead of DuckDB.)
"""

import json
import os
import sys
import time

import duckdb

src, out = sys.argv[1], sys.argv[2]
threads = int(sys.argv[3]) if len(sys.argv) > 3 else 2
os.makedirs(out, exist_ok=True)

t = time.time()
con = duckdb.connect()
con.execute(f"SET threads TO {threads}")
# Spill (if it must) next to the outputs, not into the working directory.
con.execute(f"SET temp_directory = '{out}/duckdb.tmp'")
con.execute(f"""
  CREATE TEMP TABLE j AS
  SELECT *, CAST(to_timestamp(report_time) AT TIME ZONE 'Asia/Shanghai' AS DATE) AS report_date
  FROM read_json('{src}', format = 'newline_delimited', maximum_object_size = 10000000,
    columns = {{
      journal_uuid: 'VARCHAR', template_id: 'VARCHAR', template_name: 'VARCHAR',
      report_time: 'BIGINT', submitter: 'STRUCT(userid VARCHAR)',
      receivers: 'STRUCT(userid VARCHAR)[]', readed_receivers: 'STRUCT(userid VARCHAR)[]',
      apply_data: 'JSON', sys_journal_data: 'VARCHAR',
      comments: 'STRUCT(commentid UBIGINT, tocommentid UBIGINT, comment_userinfo STRUCT(userid VARCHAR),
                        content VARCHAR, comment_time BIGINT)[]'
    }})""")
copies = {
    "journals": """
      SELECT journal_uuid, template_id, template_name, to_timestamp(report_time) AS report_time,
             report_date, submitter.userid AS submitter_userid,
             len(receivers) AS receiver_count, len(readed_receivers) AS read_count,
             len(comments) AS comment_count, sys_journal_data
      FROM j""",
    "journal_controls": """
      SELECT journal_uuid, c->>'id' AS control_id, c->>'control' AS control_type,
             c->'title'->0->>'text' AS title, c->>'value' AS value_json, report_date
      FROM (SELECT journal_uuid, report_date,
                   unnest(from_json(apply_data->'contents', '["JSON"]')) AS c FROM j)""",
    "journal_comments": """
      SELECT journal_uuid, c.commentid AS comment_id, NULLIF(c.tocommentid, 0) AS to_comment_id,
             c.comment_userinfo.userid AS userid, c.content AS content,
             to_timestamp(c.comment_time) AS comment_time, report_date
      FROM (SELECT journal_uuid, report_date, unnest(comments) AS c FROM j)""",
}
for name, query in copies.items():
    con.execute(f"COPY ({query}) TO '{out}/{name}.parquet' (FORMAT parquet, COMPRESSION zstd)")
seconds = time.time() - t
rows = {name: con.execute(f"SELECT count(*) FROM '{out}/{name}.parquet'").fetchone()[0] for name in copies}
print(json.dumps({"version": duckdb.__version__, "seconds": seconds, "rows": rows}))
