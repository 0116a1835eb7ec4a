#!/usr/bin/env bash
# make demo: the starter scenario end to end on this machine. Installs what
# is missing (as root), builds, starts an agent on loopback, burns one core
# at 60 % for 8 seconds through chaosctl, measures the load from /proc,
# shows the automatic revert at the deadline. Then, as root with Docker, it
# builds the local ECS sandbox (tests/sandbox) and runs the library's
# ecs-instance-burn-cpu experiment against it through chaosctl run; without
# root or Docker, it runs a small experiment against the loopback agent
# instead. Either way it prints the journal's summary, and cleans up.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

if [ "$(id -u)" -eq 0 ]; then
	scripts/install-deps.sh >/dev/null
elif ! pkg-config --exists libmicrohttpd libcjson libcurl libseccomp libcrypto; then
	echo "demo: build dependencies are missing; run scripts/install-deps.sh as root" >&2
	exit 1
fi
make -s all

work=$(mktemp -d /tmp/chaos-demo.XXXXXX)
agent_pid=
sandbox_dir=
cleanup() {
	if [ -n "$sandbox_dir" ]; then
		tests/sandbox/sandbox.py --dir "$sandbox_dir" down || true
	fi
	if [ -n "$agent_pid" ] && kill -0 "$agent_pid" 2>/dev/null; then
		kill -TERM "$agent_pid"
		wait "$agent_pid" 2>/dev/null || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT

say "a key, shared by the agent and chaosctl"
bin/chaosctl keygen --out "$work/agent.key"

say "start chaos-agent on 127.0.0.1 (port picked by the kernel)"
bin/chaos-agent --listen 127.0.0.1:0 --key-file "$work/agent.key" \
	--state-dir "$work/state" 2>"$work/agent.log" &
agent_pid=$!
for _ in $(seq 50); do
	port=$(grep -o '"event":"listening"[^}]*"port":[0-9]*' "$work/agent.log" 2>/dev/null |
		grep -o '[0-9]*$' || true)
	[ -n "$port" ] && break
	sleep 0.1
done
[ -n "${port:-}" ] || { cat "$work/agent.log"; echo "demo: agent did not start" >&2; exit 1; }
ctl=(bin/chaosctl --agent "http://127.0.0.1:$port" --key-file "$work/agent.key")
echo "agent pid $agent_pid listening on 127.0.0.1:$port"
"${ctl[@]}" info

say "faults before"
"${ctl[@]}" faults

say "inject burn-cpu: 60 % of one core for 8 s"
"${ctl[@]}" inject burn-cpu --duration 8 --load 60 --cores 1

say "measured load of the burner, from /proc over 3 s"
tck=$(getconf CLK_TCK)
pids=$(pgrep -x chaos-burn | tr '\n' ' ')
ticks() { for p in $pids; do awk '{print $14 + $15}' "/proc/$p/stat"; done | awk '{s += $1} END {print s + 0}'; }
t0=$(ticks); s0=$(date +%s.%N)
sleep 3
t1=$(ticks); s1=$(date +%s.%N)
awk -v a="$t0" -v b="$t1" -v x="$s0" -v y="$s1" -v hz="$tck" -v p="$pids" \
	'BEGIN { printf "burner pid(s) %s: %.1f %% of one core (requested 60 %%)\n", p, 100 * (b - a) / hz / (y - x) }'
ps -o pid,user,psr,pcpu,comm -p "${pids// /,}" 2>/dev/null | sed 's/,$//' || true

say "faults during"
"${ctl[@]}" faults

say "waiting for the deadline"
sleep 5.5
left=$(pgrep -x chaos-burn | tr '\n' ' ' || true)
echo "burner processes left: ${left:-none}"

say "faults after (reverted automatically at the deadline)"
"${ctl[@]}" faults

say "audit trail (agent log)"
grep '"event":"audit"' "$work/agent.log" | cut -c1-220

summary() {
	/usr/bin/python3 - "$1" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
ss = j["steady_states"]
met = lambda s: "-" if s is None else ("met" if s["steady_state_met"] else "NOT met")
print("journal: %s, deviated=%s; hypothesis before %s, after %s, %d checks during" % (
    j["status"], j["deviated"], met(ss.get("before")), met(ss.get("after")),
    len(ss.get("during") or [])))
for a in j["run"] + j.get("rollbacks", []):
    print("  %-26s %-10s %s" % (a["activity"]["name"], a["status"],
                                 (a.get("output") or {}).get("status", "")))
PY
}

if [ "$(id -u)" -eq 0 ] && command -v dockerd >/dev/null &&
	scripts/setup-venv.sh >"$work/venv.log" 2>&1; then
	say "an ECS cluster on this machine: tests/sandbox/sandbox.py up"
	sandbox_dir="$work/sbx"
	tests/sandbox/sandbox.py --dir "$sandbox_dir" up
	eval "$(tests/sandbox/sandbox.py --dir "$sandbox_dir" env)"
	bin/chaosctl --cluster local-chaos-comment-cluster \
	    --key-ssm-parameter /local/chaos/agent_key targets

	say "a library experiment through Chaos Toolkit: ecs-instance-burn-cpu, context local"
	bin/chaosctl run library/reliability/ecs-instance-burn-cpu/experiment.conf \
	    --context local --runs-dir "$work/runs" 2>"$work/run.log" && rc=0 || rc=$?
	grep '^chaosctl:' "$work/run.log" || true
	journal=$(ls "$work"/runs/*/journal.json 2>/dev/null | head -n 1)
	[ -z "$journal" ] || summary "$journal"
	echo "chaosctl run exited with $rc; the cluster's faults now:"
	bin/chaosctl --cluster local-chaos-comment-cluster \
	    --key-ssm-parameter /local/chaos/agent_key faults

	say "remove the sandbox"
	tests/sandbox/sandbox.py --dir "$sandbox_dir" down
	sandbox_dir=
else
	say "the same through Chaos Toolkit: chaosctl run scripts/demo/experiment.conf"
	echo "(the sandbox cluster needs root, dockerd and the project virtualenv:" \
	    "running on the loopback agent instead)"
	if [ -f "$work/venv.log" ] || scripts/setup-venv.sh >"$work/venv.log" 2>&1; then
		PATH="$PWD/bin:$PATH" CHAOS_AGENTS="http://127.0.0.1:$port" \
		    CHAOS_AGENT_KEY_FILE="$work/agent.key" \
		    bin/chaosctl run scripts/demo/experiment.conf --chaos .venv/bin/chaos \
		    --runs-dir "$work/runs" 2>"$work/run.log" && rc=0 || rc=$?
		grep '^chaosctl:' "$work/run.log" || true
		journal=$(ls "$work"/runs/*/journal.json 2>/dev/null | head -n 1)
		[ -z "$journal" ] || summary "$journal"
		echo "chaosctl run exited with $rc; faults on the agent now:"
		"${ctl[@]}" faults
	else
		echo "skipped: no project virtualenv ($(tail -n 1 "$work/venv.log"))"
	fi
fi

say "stop the agent (SIGTERM reverts anything still active)"
kill -TERM "$agent_pid"; wait "$agent_pid" || true; agent_pid=
echo "done"
