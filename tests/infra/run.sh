#!/usr/bin/env bash
# make check-infra: every check of infrastructure/ that runs without AWS.
# The AWS provider cannot be downloaded here, so there is no validate or
# plan; what they would catch first is checked by the steps below. Tools
# come from scripts/install-infra-tools.sh (build/infra-tools).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
TOOLS=${INFRA_TOOLS:-$ROOT/build/infra-tools}
WORK=$ROOT/build/infra
INFRA=$ROOT/infrastructure
export TF_CLI_CONFIG_FILE=$TOOLS/tofurc TF_IN_AUTOMATION=1
cd "$ROOT"
mkdir -p "$WORK"

failed=()
step() {
	local name=$1 t0
	shift
	t0=$(date +%s)
	echo "check-infra: $name"
	if "$@"; then
		echo "check-infra: $name ok ($(($(date +%s) - t0))s)"
	else
		echo "check-infra: $name FAILED" >&2
		failed+=("$name")
	fi
}

tofu_fmt() {
	"$TOOLS/bin/tofu" fmt -check -recursive -diff "$INFRA"
}

# Every .hcl of the live configuration, as hclfmt would write it.
hcl_fmt() {
	local f rc=0
	while IFS= read -r f; do
		"$TOOLS/bin/hclfmt" -check -require-no-change "$f" >/dev/null || {
			echo "not formatted (hclfmt -w $f):" >&2
			"$TOOLS/bin/hclfmt" "$f" | diff -u "$f" - >&2 || true
			rc=1
		}
	done < <(find "$INFRA/live" -name '*.hcl' | sort)
	return $rc
}

# tofu validate and tofu test for the modules without providers (the
# user data); the others are validated and tested against the schema stub
# by tests/infra/test_validate.py. TF_DATA_DIR keeps .terraform out of the
# tree.
tofu_test() {
	local d name rc=0
	for d in "$INFRA"/modules/*/tests; do
		d=$(dirname "$d")
		name=$(basename "$d")
		grep -q required_providers "$d/versions.tf" && continue
		export TF_DATA_DIR=$WORK/tofu-data/$name
		"$TOOLS/bin/tofu" -chdir="$d" init -input=false -no-color >"$WORK/tofu-init-$name.log" 2>&1 || {
			cat "$WORK/tofu-init-$name.log" >&2
			rc=1
			continue
		}
		"$TOOLS/bin/tofu" -chdir="$d" validate -no-color || rc=1
		"$TOOLS/bin/tofu" -chdir="$d" test -no-color || rc=1
	done
	unset TF_DATA_DIR
	return $rc
}

tflint_all() {
	(cd "$INFRA/modules" && "$TOOLS/bin/tflint" --recursive --config "$INFRA/.tflint.hcl" --format compact)
}

# checkov: zero failed checks, zero files it could not parse. Test files
# (*.tftest.hcl) are no infrastructure, and checkov's HCL parser hangs on
# them. Its 10 s per-file parse timeout is off: on a busy machine it turns
# slowness into skipped files.
checkov_all() {
	HCL_PARSE_TIMEOUT_SEC=0 "$TOOLS/checkov/bin/checkov" -d "$INFRA/modules" --framework terraform \
		--skip-download --skip-path '\.tftest\.hcl$' -o json >"$WORK/checkov.json" 2>"$WORK/checkov.err" || true
	"$TOOLS/checkov/bin/python" - "$WORK/checkov.json" "$WORK/checkov.err" <<'PY'
import json, sys
try:
    with open(sys.argv[1]) as f:
        reports = json.load(f)
except ValueError:
    sys.stdout.write(open(sys.argv[2]).read())
    sys.exit("checkov wrote no JSON report")
reports = reports if isinstance(reports, list) else [reports]
s = {"passed": 0, "failed": 0, "skipped": 0, "parsing_errors": 0}
for r in reports:
    for k in s:
        s[k] += r.get("summary", {}).get(k, 0)
    for c in r.get("results", {}).get("failed_checks", []):
        print("  FAILED %s %s (%s:%s) %s" % (c["check_id"], c["resource"], c["file_path"],
                                              c["file_line_range"][0], c["check_name"]))
    for p in r.get("results", {}).get("parsing_errors", []):
        print("  cannot parse %s" % p)
print("checkov: %(passed)d passed, %(failed)d failed, %(skipped)d skipped (inline, with reasons), "
      "%(parsing_errors)d parsing errors" % s)
sys.exit(1 if s["failed"] or s["parsing_errors"] or not s["passed"] else 0)
PY
}

# checkov takes the longest and needs nothing the others make: it runs in
# the background while they do, and its step waits for it.
checkov_pid=
checkov_start() {
	checkov_all >"$WORK/checkov.log" 2>&1 &
	checkov_pid=$!
}
checkov_wait() {
	local rc=0
	wait "$checkov_pid" || rc=$?
	cat "$WORK/checkov.log"
	return $rc
}

shellcheck_scripts() {
	shellcheck "$ROOT/scripts/install-infra-tools.sh" "$ROOT/tests/infra/run.sh"
}

python_tests() {
	"$TOOLS/pytest/bin/python" -m pytest -q -p no:cacheprovider tests/infra
}

checkov_start
step "shellcheck (infra scripts)" shellcheck_scripts
step "tofu fmt" tofu_fmt
step "hclfmt (live config)" hcl_fmt
step "tofu validate, tofu test" tofu_test
step "tflint (preset all)" tflint_all
step "python-hcl2 cross-checks, user data, AWS schema, tofu validate" python_tests
step "checkov" checkov_wait

if [ "${#failed[@]}" -gt 0 ]; then
	echo "check-infra: FAILED: ${failed[*]}" >&2
	exit 1
fi
echo "check-infra: all checks passed"
