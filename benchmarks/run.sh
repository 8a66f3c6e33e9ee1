#!/usr/bin/env bash
# The scale benchmark in one command: build benchmarks/.venv (the benchmark's own tools plus
# this checkout of mentions, editable), then run every measurement and print the report.
#   bash benchmarks/run.sh            N=1,000 (0 and 50 ms latency) and N=5,000; about 30 min
#   bash benchmarks/run.sh --quick    N=1,000 without latency; a few minutes
# Any other flags go to bench.py (see: bash benchmarks/run.sh --help).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="$here/.venv"
if [[ ! -x "$venv/bin/python" ]]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --upgrade pip
fi
# Build chatter goes to a log, shown only when the install fails.
log="$venv/install.log"
if ! { "$venv/bin/pip" install -r "$here/requirements.txt" && "$venv/bin/pip" install -e "$here/.."; } >"$log" 2>&1
then
    cat "$log" >&2
    exit 1
fi
cd "$here"
exec "$venv/bin/python" bench.py "$@"
