#!/usr/bin/env bash
# Installs the lake tests' tools from PyPI (moto's S3 server, pyarrow, polars, deltalake, DuckDB,
# pandas, pyspark; and pyarrow 14, the last release without string_view, in a venv of its own)
# and prints the variables tests/it/lake.rs reads, for `eval`. Idempotent: reruns reuse the venvs.
set -euo pipefail
cd "$(dirname "$0")/.."
base="${WECOM_JOURNAL_LAKE_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/wecom-journal/lake-tools}"
pip_install() {
    local venv="$1"
    shift
    [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$@" >&2
}
pip_install "$base/py" -r .ci/lake-requirements.txt
pip_install "$base/pyarrow14" 'pyarrow==14.0.2' 'numpy<2'
echo "export WECOM_JOURNAL_PYTHON='$base/py/bin/python'"
echo "export WECOM_JOURNAL_PYARROW14_PYTHON='$base/pyarrow14/bin/python'"
