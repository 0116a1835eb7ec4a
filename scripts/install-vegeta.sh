#!/usr/bin/env bash
# Build vegeta, the library's load generator, from the Go module proxy into
# build/tools/bin/vegeta, at a pinned version. The library's load probes
# and actions (library/python, chaoskit.load) run it: a constant request
# rate whatever the answers take (an open model), a JSON report with the
# success ratio and the latency percentiles. MIT licensed.
#
# Idempotent and cheap when warm: rebuilt only when the pinned version
# (recorded in build/tools/vegeta.stamp) differs. scripts/setup-venv.sh
# calls it; the runner image builds the same version.
# Usage: scripts/install-vegeta.sh
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
DEST=${CHAOS_TOOLS:-$ROOT/build/tools}
VEGETA_MODULE=github.com/tsenart/vegeta/v12
VEGETA_VERSION=v12.13.0

die() {
	echo "install-vegeta: $*" >&2
	exit 1
}

mkdir -p "$DEST/bin"
exec 9>"$DEST/.vegeta.lock"
flock 9

if [ -x "$DEST/bin/vegeta" ] && [ -f "$DEST/vegeta.stamp" ] &&
	[ "$(cat "$DEST/vegeta.stamp")" = "$VEGETA_VERSION" ]; then
	exit 0
fi
# the machine's Go toolchain, never another one fetched behind our back
export GOTOOLCHAIN=local
command -v go >/dev/null || die "go is missing (it builds vegeta from the Go module proxy)"
# vegeta v12.13.0's go.mod asks for Go 1.22; Debian 12's golang-go is 1.19
gov=$(go env GOVERSION) || die "go env GOVERSION failed"
case "$gov" in
go1.2[2-9]* | go1.[3-9][0-9]* | go[2-9]*) ;;
*) die "$gov is too old: vegeta $VEGETA_VERSION needs Go >= 1.22 (golang.org/dl, or a backport)" ;;
esac
echo "install-vegeta: building $VEGETA_MODULE@$VEGETA_VERSION into $DEST/bin" >&2
GOBIN="$DEST/bin" CGO_ENABLED=0 go install -trimpath -ldflags "-s -w" \
	"$VEGETA_MODULE@$VEGETA_VERSION" || die "go install $VEGETA_MODULE@$VEGETA_VERSION failed"
"$DEST/bin/vegeta" -version >/dev/null || die "$DEST/bin/vegeta does not run"
echo "$VEGETA_VERSION" >"$DEST/vegeta.stamp"
