"""Where a `rebuild`'s CPU time goes, stage by stage, from a `perf record` of it.

    perf record -e cpu-clock -F 250 --call-graph dwarf,65528 -o rebuild.perf.data -- \
        target/release/wecom-journal rebuild JOB --output DIR
    perf script -i rebuild.perf.data -F comm,pid,tid,time,ip,sym --no-inline | python3 benches/perf_stages.py 250

(the argument, perf's -F, turns sample counts into CPU seconds).

(docs/benchmarks.md, "Profile of today's rebuild", has the figures and the exact commands.)

Each sample is put in a *stage* and a *kind*:
- stage: on the main thread and the store's reader thread, the innermost of our own frames that
  names a stage (`Store::details_in_range`, `flatten_journals`, `TableWriter::write_batch`,
  `report::build`, `write_workbook`, ...); polars' pool threads hold none of our frames and
  count as one stage, told apart by kind; a main-thread sample whose stack perf cut short goes
  to the stage of the nearest main-thread sample in time;
- kind: what the leaf-most recognisable frame does (SQLite, JSON decoding, allocation and
  freeing, zstd, Parquet encoding, CSV, XLSX XML / zip, kernel: page faults and I/O, ...).

Prints the share of samples (≈ CPU time) per stage, per stage × kind, per thread, and the top
leaf functions of each stage, as Markdown.
"""

import bisect
import collections
import re
import sys

READER = "read + decode the store (reader thread)"
POOL = "polars pool threads (work the main thread hands over)"
# Innermost first is not needed: the innermost (closest to the leaf) match wins.
STAGES = [
    (r"Store::details_in_range|Store::detail_batch|Store>::details_in_range", READER),
    (r"flatten::flatten_journals|flatten_journals", "flatten"),
    (r"DownloadedFiles|fill_local_paths|wedrive_downloads_of", "wedrive local paths (a store query per journal)"),
    (r"TableWriter>::write_batch|TableWriter::write_batch", "sink: table batches (split, buffer, encode)"),
    (r"TableWriter>::finish|TableWriter::finish", "sink: finish tables (last row groups, footers)"),
    (r"flatten_stats|stat_cycles_in_range|stats_in_range", "stats"),
    (r"load_directory|Store::directory|directory_tables", "directory"),
    (r"report::build|report::[a-z_]+::build|ReportInputs", "reports"),
    (r"sink::write_frame|write_frame", "reports: write files"),
    (r"report::summary", "workbook: summary"),
    (r"run::concat_frames", "concat frames"),
    (r"excel_ready", "workbook: excel_ready"),
    (r"write_dataframe_to_worksheet|write_data_sheet", "workbook: cells into worksheets"),
    (r"Workbook::save|Workbook>::save|rust_xlsxwriter::workbook::Workbook::save", "workbook: save (XML, zip)"),
    (r"write_workbook", "workbook: other"),
    (r"drop_in_place<(alloc::vec::Vec<)?wecom_journal::wecom::types::JournalDetail>", "free decoded batches"),
    (r"build_outputs", "build_outputs: other"),
]
STAGES = [(re.compile(p), name) for p, name in STAGES]

KINDS = [
    (r"^sqlite3|^pager|^btree|^vdbe", "SQLite"),
    (r"^ZSTD_|^HUF_|^FSE_|zstd", "zstd"),
    (r"^mi_|^_mi_|mimalloc|__rust_alloc|__rust_dealloc|__rust_realloc|drop_in_place|RawVec.*grow", "alloc / free"),
    (r"^memcpy|^__memcpy|^__memmove|memmove|^__memset|memset", "memcpy / memset"),
    (r"serde_json|serde_core|serde::de|Deserialize|RawValue", "JSON decode"),
    (r"polars_parquet|parquet", "Parquet encode"),
    (r"csv", "CSV"),
    (r"chrono::format|strftime", "date formatting (strftime: partition labels)"),
    (r"concatenate", "concatenate"),
    (r"gather|take_values|filter", "gather / filter"),
    (r"sort", "sort"),
    (r"rust_xlsxwriter|polars_excel_writer|zip::|flate2|miniz|crc32", "XLSX (cells, XML, zip)"),
    (r"polars_ops|polars_core|polars_compute|polars_arrow|polars_expr|polars_lazy|polars_mem_engine|polars_plan|polars_time|polars_io", "polars kernels"),
    (r"wecom_journal::flatten", "flatten code"),
    (r"wecom_journal::report", "report code"),
    (r"^\[unknown\]|^\[k\]", "unknown"),
]
KINDS = [(re.compile(p), name) for p, name in KINDS]
KERNEL = re.compile(r"^(clear_page|exc_page_fault|asm_exc_page_fault|handle_mm_fault|__handle_mm_fault|do_|folio_|vma_|copy_user|filemap|ext4|xfs|__x64_sys|entry_SYSCALL|syscall|rep_movs|_raw_spin|native_|page_|__alloc_pages|get_page|zap_|unmap_|tlb_|release_pages|free_|lru_)")


def parse(lines):
    """Yields (comm, pid, tid, time, [frames leaf→root]) of `perf script -F comm,pid,tid,time,ip,sym`."""
    head, frames = None, []
    for line in lines:
        line = line.rstrip("\n")
        if not line.strip():
            if head:
                yield (*head, frames)
            head, frames = None, []
            continue
        m = re.match(r"^\s*(\S.*?)\s+(\d+)/(\d+)\s+([\d.]+):", line)
        if m and not line.startswith("\t"):
            if head:
                yield (*head, frames)
            head = (m.group(1), int(m.group(2)), int(m.group(3)), float(m.group(4)))
            frames = []
            continue
        parts = line.strip().split(None, 1)
        sym = parts[1] if len(parts) > 1 else "[unknown]"
        addr = parts[0]
        if addr.startswith("ffffffff") and not sym.startswith("["):
            sym = "[k] " + sym
        frames.append(sym)
    if head:
        yield (*head, frames)


def stage_of(frames):
    for f in frames:  # leaf → root: the innermost stage frame wins
        for pattern, name in STAGES:
            if pattern.search(f):
                return name
    return None


def kind_of(frames):
    if frames and frames[0].startswith("[k] "):
        return "kernel (page faults, I/O)"
    for f in frames:
        for pattern, name in KINDS:
            if pattern.search(f):
                return name
    return "other"


def leaf(frames):
    for f in frames:
        if not f.startswith("[k] "):
            return re.sub(r"::h[0-9a-f]{16}$", "", f)[:110]
    return frames[0] if frames else "?"


def main():
    samples = [s for s in parse(sys.stdin) if s[4]]
    if not samples:
        sys.exit("no samples on stdin (pipe `perf script -F comm,pid,tid,time,ip,sym` into this)")
    main_pid = collections.Counter(s[1] for s in samples).most_common(1)[0][0]
    # The main thread's stage over time, to place the pool threads' samples.
    timeline = sorted((t, stage_of(fr)) for _, pid, tid, t, fr in samples if tid == main_pid)
    timeline = [(t, s) for t, s in timeline if s]
    times = [t for t, _ in timeline]

    by_stage = collections.Counter()
    by_stage_kind = collections.Counter()
    by_thread = collections.Counter()
    leaves = collections.defaultdict(collections.Counter)
    by_time = 0  # main-thread samples whose stack lost our frames: placed by time
    for comm, pid, tid, t, frames in samples:
        stage = stage_of(frames)
        pool = comm.startswith("polars") or comm.startswith("rayon")
        where = "main" if tid == main_pid else ("polars pool" if pool else "store reader")
        if stage is None and where == "store reader":
            # Its only work: a stack too deep for perf's copy lost the frame that says so.
            stage = READER
        if stage is None and pool:
            # Work the main thread handed to polars' pool (it waits, off the CPU, unsampled):
            # told apart by what it does, not by when.
            stage = POOL
        elif stage is None:
            if times and times[0] <= t <= times[-1]:
                i = bisect.bisect_left(times, t)
                near = min((j for j in (i - 1, i) if 0 <= j < len(times)), key=lambda j: abs(times[j] - t))
                stage = timeline[near][1]
                by_time += 1
            else:
                stage = "outside build_outputs (start-up, exit)"
        kind = kind_of(frames)
        by_stage[stage] += 1
        by_stage_kind[(stage, kind)] += 1
        by_thread[where] += 1
        leaves[stage][leaf(frames)] += 1

    total = len(samples)
    hz = float(sys.argv[1]) if len(sys.argv) > 1 else None
    cpu = f" ≈ {total / hz:.1f} s of CPU at {hz:g} Hz" if hz else ""
    print(f"{total} samples{cpu}; threads: " +
          ", ".join(f"{k} {v / total:.0%}" for k, v in by_thread.most_common()) +
          f"; {by_time / total:.1%} of the samples (main thread, stack cut short) placed by time")
    print()
    print("| stage | share of CPU samples | CPU | of which (kind: share of the stage) |")
    print("|---|---:|---:|---|")
    for stage, n in by_stage.most_common():
        kinds = sorted(((c, k) for (s, k), c in by_stage_kind.items() if s == stage), reverse=True)
        detail = ", ".join(f"{k} {c / n:.0%}" for c, k in kinds if c / n >= 0.03)
        secs = f"{n / hz:.2f} s" if hz else "—"
        print(f"| {stage} | {n / total:.1%} | {secs} | {detail} |")
    print()
    for stage, n in by_stage.most_common():
        if n / total < 0.02:
            continue
        print(f"{stage} — top leaf functions:")
        for fn, c in leaves[stage].most_common(6):
            print(f"  {c / n:5.1%}  {fn}")
    print()


if __name__ == "__main__":
    main()
