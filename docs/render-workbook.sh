#!/usr/bin/env bash
# Renders the demo workbook to PNGs under docs/img/, as a person would see it printed: runs
# `wecom-journal demo` (the simulator's October 2026), converts the workbook to PDF with
# LibreOffice headless (each sheet with its own print setup), and rasterises chosen pages with
# pdftoppm. Needs LibreOffice Calc and poppler-utils (`apt-get install -y libreoffice-calc
# poppler-utils`); CI does not run it. Usage: docs/render-workbook.sh [path/to/wecom-journal]
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
bin="${1:-$repo/target/debug/wecom-journal}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
img="$repo/docs/img"
mkdir -p "$img"

# The demo exits 3 when the simulator withdrew a journal (a gap): the outputs are whole.
(cd "$repo" && "$bin" demo --output "$work/out") >"$work/demo.log" 2>&1 || [ $? -eq 3 ] \
    || { cat "$work/demo.log"; exit 1; }
xlsx="$(find "$work/out" -maxdepth 1 -name '*.xlsx' | head -n 1)"
[ -n "$xlsx" ] || { echo "no workbook in $work/out" >&2; exit 1; }

# One PDF for the whole workbook, sheets in order, each as its print setup says.
soffice --headless --norestore -env:UserInstallation="file://$work/lo" \
    --convert-to pdf --outdir "$work" "$xlsx" >/dev/null 2>&1
pdf="$work/$(basename "${xlsx%.xlsx}").pdf"
[ -f "$pdf" ] || { echo "LibreOffice wrote no PDF" >&2; exit 1; }
pages="$(pdfinfo "$pdf" | awk '/^Pages:/ {print $2}')"
echo "$pdf: $pages pages"

# Which page holds which sheet: the page header names the sheet (&A), so search the text.
page_of() {
    local want="$1" p
    for ((p = 1; p <= pages; p++)); do
        # The header line as laid out, else anywhere in the page's text (CJK runs may split).
        if pdftotext -f "$p" -l "$p" -layout "$pdf" - | head -n 3 | grep -qF -- "$want" \
            || pdftotext -f "$p" -l "$p" "$pdf" - | grep -qF -- "$want"; then
            echo "$p"
            return
        fi
    done
    echo "no page headed $want" >&2
    return 1
}

render() {
    local name="$1" page="$2"
    pdftoppm -f "$page" -l "$page" -r 110 -png -singlefile "$pdf" "$img/$name"
    echo "docs/img/$name.png ← page $page"
}

# The summary is the first sheet, so the first page.
render workbook-summary 1
# The second sheet, after the one-page summary.
render workbook-report "$(page_of '部门迟交' || echo 2)"
render workbook-chart "$(page_of '图表·')"
# The 汇报 template's sheet: its rich text, wrapped over several lines.
render workbook-wide "$(page_of '明细·汇报')"
render workbook-table "$(page_of '表格·')"
