#!/usr/bin/env bash
# make bench: print the foundation's performance numbers. Needs root (the
# agent drops privileges to 'nobody' and pins burners).
set -euo pipefail
cd "$(dirname "$0")/../.."
exec /usr/bin/python3 tests/bench/bench.py "$@"
