#!/usr/bin/env bash
# Replay every fuzz corpus through its target built without libFuzzer
# (tests/bin/replay_<target>), so inputs that once crashed stay fixed and
# the parsers see the corpus under the sanitizers of the current build.
set -uo pipefail
cd "$(dirname "$0")/.."
status=0
for t in "$@"; do
	dir=tests/fuzz/corpus/$t
	if [ ! -d "$dir" ] || [ -z "$(ls -A "$dir")" ]; then
		echo "replay: $t has no corpus in $dir" >&2
		status=1
		continue
	fi
	if ! out=$(tests/bin/replay_"$t" "$dir"/* 2>&1); then
		printf '%s\n' "$out"
		echo "replay: $t FAILED" >&2
		status=1
		continue
	fi
	printf 'replay: %-8s %s inputs\n' "$t" "$(ls "$dir" | wc -l)"
done
exit "$status"
