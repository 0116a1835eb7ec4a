#!/usr/bin/env bash
# Create or update the project-local virtualenv .venv/ that the end-to-end
# tests (tests/e2e) need: Chaos Toolkit, its AWS extension and moto's S3
# server, pinned in tests/requirements.txt; the library's own extension
# (library/python, put on the venv's path); and vegeta, the library's load
# generator (scripts/install-vegeta.sh, into build/tools/bin).
#
# Needs Python >= 3.12 (current Chaos Toolkit does). Looked for in order:
#   $CHAOS_PYTHON, python3.12 / python3.13 on PATH, then pyenv's
#   ${PYENV_ROOT:-$HOME/.pyenv}/versions/3.12*, 3.13*, and later.
# Idempotent: an existing .venv with Python >= 3.12 is kept, and pip runs
# only when tests/requirements.txt (or the venv's Python) changed since the
# last successful install, recorded in .venv/.requirements.stamp.
# Usage: scripts/setup-venv.sh [--force]     (--force reinstalls the packages)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
VENV="$ROOT/.venv"
REQS="$ROOT/tests/requirements.txt"
STAMP="$VENV/.requirements.stamp"
MIN_MINOR=12

die() {
	echo "setup-venv: $*" >&2
	exit 1
}

force=0
case "${1:-}" in
"") ;;
--force) force=1 ;;
*) die "usage: scripts/setup-venv.sh [--force]" ;;
esac

[ -r "$REQS" ] || die "missing $REQS"

# python_ok PYTHON: PYTHON runs, is 3.12 or later and can make a venv.
python_ok() {
	"$1" -c "import sys, venv, ensurepip; sys.exit(0 if sys.version_info >= (3, $MIN_MINOR) else 1)" \
		>/dev/null 2>&1
}

find_python() {
	local c d
	if [ -n "${CHAOS_PYTHON:-}" ]; then
		python_ok "$CHAOS_PYTHON" ||
			die "CHAOS_PYTHON=$CHAOS_PYTHON is not a working Python >= 3.$MIN_MINOR with venv and ensurepip"
		echo "$CHAOS_PYTHON"
		return
	fi
	for c in python3.12 python3.13; do
		# pyenv shims are on PATH but fail unless that version is selected,
		# so each candidate is tried, not just looked up.
		if command -v "$c" >/dev/null 2>&1 && python_ok "$c"; then
			command -v "$c"
			return
		fi
	done
	local pyenv_root="${PYENV_ROOT:-$HOME/.pyenv}"
	if [ -d "$pyenv_root/versions" ]; then
		# 3.12.x first, then 3.13.x, then anything later; newest patch first
		for d in $(for v in "$pyenv_root"/versions/3.*; do basename "$v"; done |
			grep -E '^3\.[0-9]+\.[0-9]+$' | sort -t. -k2,2n -k3,3nr); do
			local minor=${d#3.}
			minor=${minor%%.*}
			[ "$minor" -ge "$MIN_MINOR" ] || continue
			for c in "$pyenv_root/versions/$d/bin/python3.$minor" "$pyenv_root/versions/$d/bin/python3"; do
				if [ -x "$c" ] && python_ok "$c"; then
					echo "$c"
					return
				fi
			done
		done
	fi
	die "no Python >= 3.$MIN_MINOR found (tried \$CHAOS_PYTHON, python3.12 and python3.13 on PATH, $pyenv_root/versions/3.1[2-9]*); install one (e.g. 'pyenv install 3.12') or set CHAOS_PYTHON=/path/to/python3.12"
}

mkdir -p "$VENV"
# One setup at a time (parallel test sessions share .venv).
exec 9>"$VENV/.setup.lock"
flock 9

if [ -x "$VENV/bin/python" ] && python_ok "$VENV/bin/python"; then
	:
else
	py=$(find_python)
	echo "setup-venv: creating $VENV with $py ($("$py" --version 2>&1))" >&2
	# Empty it but keep the lock file we hold.
	find "$VENV" -mindepth 1 -maxdepth 1 ! -name .setup.lock -exec rm -rf {} +
	"$py" -m venv "$VENV" || die "'$py -m venv $VENV' failed"
	force=1
fi

want=$( (
	cat "$REQS"
	"$VENV/bin/python" -c 'import sys; print(sys.version)'
) | sha256sum | cut -d' ' -f1)

# The library's extension, from the work tree (a .pth file: edits need no
# reinstall), and the load generator its activities run.
site=$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
echo "$ROOT/library/python" >"$site/chaos-kit-library.pth"
"$ROOT/scripts/install-vegeta.sh" || die "scripts/install-vegeta.sh failed"

if [ "$force" -eq 0 ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want" ] &&
	[ -x "$VENV/bin/chaos" ] && [ -x "$VENV/bin/moto_server" ]; then
	echo "setup-venv: up to date; chaos is $VENV/bin/chaos"
	exit 0
fi

rm -f "$STAMP"
echo "setup-venv: installing $REQS into $VENV" >&2
"$VENV/bin/python" -m pip install --disable-pip-version-check --no-input -q -r "$REQS" ||
	die "pip install -r $REQS failed (is PyPI reachable?)"
"$VENV/bin/python" -m pip check --disable-pip-version-check >/dev/null ||
	die "pip check failed after the install: $("$VENV/bin/python" -m pip check 2>&1 | head -5)"
for b in chaos moto_server; do
	[ -x "$VENV/bin/$b" ] || die "$VENV/bin/$b missing after the install"
done
echo "$want" >"$STAMP"
echo "setup-venv: ready; chaos is $VENV/bin/chaos ($("$VENV/bin/chaos" --version 2>&1 | head -1))"
