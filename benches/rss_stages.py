"""Peak RSS of a `rebuild`, stage by stage: lines up an RSS trace of `cargo bench --bench rebuild`
(`REBUILD_BENCH_TRACE=1`) with the stage times of the same run's manifest.

    python3 benches/rss_stages.py target/bench-rebuild/trace-all-200000-0.csv \
        target/bench-rebuild/logs/all-200000-0.manifest.json

The stages run one after the other in `build_outputs` — flatten (the store read and decoded on
a second thread, each batch flattened and written), sink_tables (the tables' last row groups
and footers), report, workbook — so the manifest's `durations_ms`, laid end to end from the
first sample above the start-up RSS, mark where each one ends (to within the few milliseconds
of loading the job and opening the store). Prints, per stage, the RSS when it starts and ends
and the most it reaches, as Markdown.
"""

import csv
import json
import sys

ORDER = ["flatten", "sink_tables", "report", "workbook"]

trace_path, manifest_path = sys.argv[1], sys.argv[2]
with open(trace_path) as f:
    samples = [(int(r["ms"]), int(r["rss_kib"])) for r in csv.DictReader(f)]
durations = json.load(open(manifest_path))["durations_ms"]
if not samples:
    sys.exit(f"{trace_path}: no samples")

# The process's own start-up (loading, the store opened) is a few ms: stages start at the
# first sample.
t = samples[0][0]
print(f"{len(samples)} samples over {samples[-1][0] / 1000:.1f} s; peak {max(r for _, r in samples) / 1024:.0f} MiB")
print()
print("| stage | from (s) | to (s) | RSS at start | RSS at end | highest RSS in the stage |")
print("|---|---:|---:|---:|---:|---:|")
for stage in ORDER + ["(exit)"]:
    if stage == "(exit)":
        start, end = t, samples[-1][0] + 1
    elif stage in durations:
        start, end = t, t + durations[stage]
    else:
        continue
    inside = [r for ms, r in samples if start <= ms < end]
    before = [r for ms, r in samples if ms < start]
    at_start = before[-1] if before else samples[0][1]
    if not inside:
        inside = [at_start]
    print(f"| {stage} | {start / 1000:.2f} | {end / 1000:.2f} | {at_start / 1024:.0f} MiB | "
          f"{inside[-1] / 1024:.0f} MiB | {max(inside) / 1024:.0f} MiB |")
    t = end
