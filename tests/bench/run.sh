#!/usr/bin/env bash
# make bench: print the foundation's performance numbers. Needs root (the
# agent drops privileges to 'nobody' and pins burners).
set -euo pipefail
cd "$(dirname "$0")/../.."
/usr/bin/python3 tests/bench/memory.py
/usr/bin/python3 tests/bench/bench.py "$@"
BENCH_TASK_RUNS=${BENCH_TASK_RUNS:-5} /usr/bin/python3 tests/bench/task_bench.py
/usr/bin/python3 tests/bench/vm_bench.py
/usr/bin/python3 tests/bench/compare.py
scripts/setup-venv.sh >/dev/null
exec /usr/bin/python3 tests/bench/aws_bench.py
