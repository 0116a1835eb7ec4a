#!/usr/bin/env bash
# Run the cmocka unit test binaries given as arguments; print a summary and
# fail if any binary failed. Each binary covers one module.
set -uo pipefail
passed=0 failed=0 names=()
for t in "$@"; do
	if out=$("$t" 2>&1); then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
		names+=("$t")
		printf '%s\n' "$out"
	fi
done
printf 'unit: %d binaries passed, %d failed\n' "$passed" "$failed"
[ "$failed" -eq 0 ] || { printf 'failed: %s\n' "${names[@]}"; exit 1; }
