//! Flatten throughput and memory: `cargo bench --bench flatten`.
//!
//! 1. Writes a synthetic set of journals (default 200,000; `FLATTEN_BENCH_JOURNALS` overrides)
//!    as raw JSON lines, the way the store keeps detail responses (not timed).
//! 2. Timed: streams the lines back in batches (`FLATTEN_BENCH_BATCH`, default 5,000), decodes
//!    them, flattens each batch and appends it to one batched Parquet writer (zstd) per journal
//!    table. Prints journals/second, the split between decode / flatten / write, rows and bytes
//!    per table, and the peak RSS (VmHWM).
//! 3. With `FLATTEN_BENCH_DUCKDB=1` and python3 + duckdb installed, the same JSON lines through
//!    DuckDB (`read_json` + `unnest` of the controls) for comparison.
//!
//! The generator is local (deterministic xorshift): the shapes are those of design §6, with a
//! Table of two rows, selectors, contacts, files and comments on every journal.

use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use polars::prelude::*;
use wecom_journal::flatten::{flatten_journals, schema, Directory, JournalTables, Warnings};
use wecom_journal::wecom::types::{
    ApplyData, Comment, Control, ControlValue, DateKind, Department, DepartmentListResponse,
    DirectoryUser, FileRef, JournalDetail, LangText, Member, SelectorKind, SelectorOption,
    TableRow, UserListResponse, UserRef,
};

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const USERS: u64 = 2_000;
const START: i64 = 1_790_784_000; // 2026-10-01 00:00 +08:00

fn title(t: &str) -> Vec<LangText> {
    vec![LangText {
        text: t.into(),
        lang: Some("zh_CN".into()),
    }]
}

fn journal(i: u64, rng: &mut Rng) -> JournalDetail {
    let user = |r: &mut Rng| format!("user{:04}", r.below(USERS));
    let day = START + (i as i64 / 600) * 86_400;
    let report_time = day + 17 * 3600 + rng.below(4 * 3600) as i64;
    let row = |r: &mut Rng| TableRow {
        list: vec![
            Control::new(
                "Text-item",
                title("事项"),
                ControlValue::Text {
                    text: format!("任务 {}", r.below(1000)),
                },
            ),
            Control::new(
                "Number-hours",
                title("小时"),
                ControlValue::Number {
                    number: Some(format!("{}.5", r.below(8))),
                },
            ),
        ],
    };
    let contents = vec![
        Control::new(
            "Text-1",
            title("今日工作"),
            ControlValue::Text {
                text: format!("完成了第 {i} 项工作，联调与评审"),
            },
        ),
        Control::new(
            "Textarea-1",
            title("明日计划"),
            ControlValue::Textarea {
                text: "继续开发\n补充测试".into(),
            },
        ),
        Control::new(
            "Number-1",
            title("工时"),
            ControlValue::Number {
                number: Some(format!("{}.{}", rng.below(12), rng.below(10))),
            },
        ),
        Control::new(
            "Date-1",
            title("日期"),
            ControlValue::Date {
                kind: Some(DateKind::Day),
                timestamp: Some(day),
            },
        ),
        Control::new(
            "Selector-1",
            title("状态"),
            ControlValue::Selector {
                kind: Some(SelectorKind::Multi),
                options: vec![
                    SelectorOption {
                        key: "opt-1".into(),
                        value: title("进行中"),
                    },
                    SelectorOption {
                        key: "opt-2".into(),
                        value: title("已完成"),
                    },
                ],
            },
        ),
        Control::new(
            "Contact-1",
            title("协作人"),
            ControlValue::Contact {
                members: vec![Member {
                    userid: user(rng),
                    name: None,
                }],
                departments: vec![],
            },
        ),
        Control::new(
            "File-1",
            title("附件"),
            ControlValue::File {
                files: vec![FileRef {
                    file_id: format!("media-{i}"),
                }],
            },
        ),
        Control::new(
            "Table-1",
            title("明细"),
            ControlValue::Table {
                rows: vec![row(rng), row(rng)],
            },
        ),
        Control::unknown(
            "Vote",
            "Vote-1",
            title("投票"),
            serde_json::json!({"vote": {"choice": rng.below(3)}}),
        ),
    ];
    let receivers: Vec<UserRef> = (0..3).map(|_| UserRef { userid: user(rng) }).collect();
    JournalDetail {
        journal_uuid: format!("{i:016x}{:016x}", rng.next()),
        template_name: "日报".into(),
        template_id: Some(format!("tpl-{}", i % 3)),
        report_time,
        submitter: UserRef { userid: user(rng) },
        readed_receivers: receivers[..rng.below(4) as usize].to_vec(),
        receivers,
        apply_data: ApplyData { contents },
        sys_journal_data: None,
        comments: (0..rng.below(3))
            .map(|k| Comment {
                commentid: rng.next() | (1 << 60),
                tocommentid: if k == 0 { 0 } else { rng.next() },
                comment_userinfo: UserRef { userid: user(rng) },
                content: "收到".into(),
                comment_time: report_time + 600 * (k as i64 + 1),
            })
            .collect(),
    }
}

fn directory() -> Directory {
    let departments = DepartmentListResponse {
        department: (1..=40)
            .map(|id| Department {
                id,
                name: format!("部门{id}"),
                parentid: if id == 1 { 0 } else { 1 + (id % 5) },
            })
            .collect(),
    };
    let users = UserListResponse {
        userlist: (0..USERS)
            .map(|u| DirectoryUser {
                userid: format!("user{u:04}"),
                name: format!("员工{u}"),
                department: vec![1 + u % 40],
                main_department: Some(1 + u % 40),
            })
            .collect(),
    };
    Directory::from_api(&departments, &[users])
}

fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

fn write_jsonl(path: &Path, n: u64) -> std::io::Result<()> {
    let mut out = BufWriter::new(File::create(path)?);
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for i in 0..n {
        serde_json::to_writer(&mut out, &journal(i, &mut rng))?;
        out.write_all(b"\n")?;
    }
    out.flush()
}

struct Sinks {
    writers: Vec<(
        &'static str,
        PathBuf,
        polars::io::parquet::write::BatchedWriter<File>,
    )>,
    rows: Vec<usize>,
}

impl Sinks {
    fn new(dir: &Path) -> PolarsResult<Sinks> {
        let mut writers = vec![];
        for name in [
            "journals",
            "journal_controls",
            "journal_attachments",
            "journal_receivers",
            "journal_comments",
        ] {
            let spec = schema::table(name).expect("a journal table");
            let path = dir.join(format!("{name}.parquet"));
            let file = File::create(&path)?;
            let w = ParquetWriter::new(file)
                .with_compression(ParquetCompression::Zstd(None))
                .batched(&spec.polars_schema())?;
            writers.push((name, path, w));
        }
        let rows = vec![0; writers.len()];
        Ok(Sinks { writers, rows })
    }

    fn write(&mut self, t: &JournalTables) -> PolarsResult<()> {
        for (k, (_, df)) in t.iter().enumerate() {
            self.rows[k] += df.height();
            self.writers[k].2.write_batch(df)?;
        }
        Ok(())
    }
}

fn main() {
    // `cargo bench` passes `--bench`; nothing else is understood.
    let n: u64 = std::env::var("FLATTEN_BENCH_JOURNALS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200_000);
    let batch: usize = std::env::var("FLATTEN_BENCH_BATCH")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5_000);
    let dir = PathBuf::from(std::env::var("CARGO_TARGET_DIR").unwrap_or_else(|_| "target".into()))
        .join("bench-flatten");
    std::fs::create_dir_all(&dir).expect("create the bench directory");
    let jsonl = dir.join("journals.jsonl");

    let t0 = Instant::now();
    write_jsonl(&jsonl, n).expect("write the synthetic journals");
    let jsonl_bytes = std::fs::metadata(&jsonl).map(|m| m.len()).unwrap_or(0);
    println!(
        "generated {n} journals as JSON lines ({:.1} MiB) in {:.1} s; peak RSS so far {:.0} MiB",
        jsonl_bytes as f64 / 1048576.0,
        t0.elapsed().as_secs_f64(),
        peak_rss_mib()
    );

    let dir_ = directory();
    let tz = chrono_tz::Asia::Shanghai;
    let mut sinks = Sinks::new(&dir).expect("open the parquet writers");
    let mut warnings = Warnings::default();
    let (mut t_decode, mut t_flatten, mut t_write) =
        (Duration::ZERO, Duration::ZERO, Duration::ZERO);
    let start = Instant::now();
    let reader = BufReader::new(File::open(&jsonl).expect("open the JSON lines"));
    let mut lines = reader.lines();
    let mut done = 0u64;
    loop {
        let t = Instant::now();
        let mut details = Vec::with_capacity(batch);
        for line in lines.by_ref().take(batch) {
            let line = line.expect("read a line");
            details.push(serde_json::from_str::<JournalDetail>(&line).expect("decode a journal"));
        }
        t_decode += t.elapsed();
        if details.is_empty() {
            break;
        }
        let t = Instant::now();
        let tables = flatten_journals(&details, &dir_, tz, &mut warnings).expect("flatten");
        t_flatten += t.elapsed();
        let t = Instant::now();
        sinks.write(&tables).expect("write parquet");
        t_write += t.elapsed();
        done += details.len() as u64;
    }
    let t = Instant::now();
    for (_, _, w) in &sinks.writers {
        w.finish().expect("finish parquet");
    }
    t_write += t.elapsed();
    let total = start.elapsed();

    println!(
        "flatten + parquet: {done} journals in {:.2} s = {:.0} journals/s (decode {:.2} s, flatten {:.2} s, parquet {:.2} s), batch {batch}",
        total.as_secs_f64(),
        done as f64 / total.as_secs_f64(),
        t_decode.as_secs_f64(),
        t_flatten.as_secs_f64(),
        t_write.as_secs_f64()
    );
    for (k, (name, path, _)) in sinks.writers.iter().enumerate() {
        let bytes = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
        println!(
            "  {name:<20} {:>10} rows {:>8.1} MiB",
            sinks.rows[k],
            bytes as f64 / 1048576.0
        );
    }
    println!("warnings: {warnings}");
    println!("peak RSS (VmHWM): {:.0} MiB", peak_rss_mib());

    if std::env::var("FLATTEN_BENCH_DUCKDB").as_deref() == Ok("1") {
        duckdb(&jsonl, &dir, n);
    }
}

/// The same JSON lines through DuckDB: journals and their top-level controls unnested to
/// Parquet (DuckDB does not recurse into Table cells here, so it does less work).
fn duckdb(jsonl: &Path, dir: &Path, n: u64) {
    let script = r#"
import sys, time, duckdb, resource
src, out = sys.argv[1], sys.argv[2]
con = duckdb.connect()
con.execute("SET threads TO 2")
t = time.time()
con.execute(f"""
  CREATE TEMP TABLE j AS SELECT * FROM read_json('{src}', format='newline_delimited', maximum_object_size=10000000,
      columns={{journal_uuid:'VARCHAR', template_id:'VARCHAR', report_time:'BIGINT',
                submitter:'STRUCT(userid VARCHAR)', apply_data:'JSON', comments:'JSON', receivers:'JSON'}})""")
con.execute(f"""COPY (SELECT journal_uuid, template_id, to_timestamp(report_time) AS report_time, submitter.userid AS submitter_userid
                      FROM j) TO '{out}/duck_journals.parquet' (FORMAT parquet, COMPRESSION zstd)""")
con.execute(f"""COPY (SELECT journal_uuid, c->>'control' AS control_type, c->>'id' AS control_id,
                             c->'title'->0->>'text' AS title, c->>'value' AS value_json
                      FROM (SELECT journal_uuid, unnest(from_json(apply_data->'contents', '["JSON"]')) AS c FROM j))
                TO '{out}/duck_controls.parquet' (FORMAT parquet, COMPRESSION zstd)""")
dt = time.time() - t
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(f"duckdb {duckdb.__version__}: {dt:.2f} s = {int(sys.argv[3]) / dt:.0f} journals/s, peak RSS {rss:.0f} MiB")
"#;
    match std::process::Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(jsonl)
        .arg(dir)
        .arg(n.to_string())
        .output()
    {
        Ok(o) => {
            print!("{}", String::from_utf8_lossy(&o.stdout));
            if !o.status.success() {
                println!(
                    "duckdb comparison failed: {}",
                    String::from_utf8_lossy(&o.stderr)
                        .lines()
                        .last()
                        .unwrap_or("")
                );
            }
        }
        Err(e) => println!("duckdb comparison skipped: {e}"),
    }
}
