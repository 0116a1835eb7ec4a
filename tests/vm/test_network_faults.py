"""Network faults for real: the agent and chaosctl in a VM whose kernel has
sch_netem, namespaces as hosts. One guest run measures every scenario and
prints "R key value..." lines; each test below checks some of them."""
import re

import pytest

# cl: the agent's "host" (10.0.0.1, fd00::1), default route over vc.
# sv: the peers (10.0.0.2-4, fd00::2-4) with web servers on 7000 and 7001.
# chaosctl talks to the agent over cl's loopback, so the caller exclusion
# (127.0.0.1) does not hide the traffic measured on vc.
SCRIPT = r"""
set -u
ip netns add cl
ip netns add sv
ip link add vc type veth peer name vs
ip link set vc netns cl
ip link set vs netns sv
ip -n cl addr add 10.0.0.1/24 dev vc
ip -n cl addr add fd00::1/64 dev vc nodad
for a in 2 3 4; do
	ip -n sv addr add 10.0.0.$a/24 dev vs
	ip -n sv addr add fd00::$a/64 dev vs nodad
done
for ns in cl sv; do ip -n $ns link set lo up; done
ip -n cl link set vc up
ip -n sv link set vs up
ip -n cl route add default via 10.0.0.2
ip -n cl -6 route add default via fd00::2

mkdir -p /tmp/www /tmp/www7000 /tmp/www7001
dd if=/dev/zero of=/tmp/www/big bs=1024 count=512 2>/dev/null
echo hello > /tmp/www7000/x
echo hello > /tmp/www7001/x
ip netns exec cl httpd -p 8080 -h /tmp/www
ip netns exec sv httpd -p 7000 -h /tmp/www7000
ip netns exec sv httpd -p 7001 -h /tmp/www7001

chaosctl keygen --out /tmp/k 2>/dev/null
start_agent() {
	# Through sh, so the pid file names the agent itself (ip netns exec forks).
	ip netns exec cl sh -c 'echo $$ > /tmp/agent.pid; exec chaos-agent \
		--listen 0.0.0.0:8421 --key-file /tmp/k --state-dir /tmp/st' >> /tmp/agent.log 2>&1 &
	i=0
	until ctl info > /dev/null 2>&1; do
		i=$((i + 1)); [ $i -lt 100 ] || { echo "agent did not start"; cat /tmp/agent.log; exit 1; }
		sleep 0.1
	done
	AGENT=$(cat /tmp/agent.pid)
}
ctl() { ip netns exec cl chaosctl --agent http://127.0.0.1:8421 --key-file /tmp/k "$@"; }
ctl_sv() { ip netns exec sv chaosctl --agent http://10.0.0.1:8421 --key-file /tmp/k --timeout 5 "$@"; }

# rtt NAME FAMILY ADDR [COUNT]: min avg max of pings from cl
rtt() {
	out=$(ip netns exec cl ping -$2 -c ${4:-8} -i 0.2 -W 3 $3 2>&1)
	set -- $1 $(echo "$out" | sed -n 's,.*min/avg/max = \([0-9.]*\)/\([0-9.]*\)/\([0-9.]*\) ms.*,\1 \2 \3,p')
	echo "R rtt $*"
}
# lossrate NAME ADDR COUNT: percent of pings lost
lossrate() {
	out=$(ip netns exec cl ping -4 -c $3 -i 0.01 -W 2 $2 2>&1)
	echo "R loss $1 $(echo "$out" | sed -n 's/.* \([0-9]*\)% packet loss.*/\1/p')"
}
# secs NAME CMD...: wall seconds of a command (/proc/uptime, 10 ms)
secs() {
	name=$1; shift
	t0=$(cut -d' ' -f1 /proc/uptime)
	"$@" > /dev/null 2>&1
	rc=$?
	t1=$(cut -d' ' -f1 /proc/uptime)
	echo "R secs $name $(echo "$t0 $t1" | awk '{printf "%.2f", $2 - $1}') rc=$rc"
}
inject() {  # inject NAME ARGS...: start a fault, print its id and the call's time
	name=$1; shift
	t0=$(cut -d' ' -f1 /proc/uptime)
	out=$(ctl --output json inject "$@")
	rc=$?
	t1=$(cut -d' ' -f1 /proc/uptime)
	ID=$(echo "$out" | sed -n 's/.*"id":[[:space:]]*"\(f-[0-9a-f]*\)".*/\1/p' | head -n 1)
	echo "R inject $name rc=$rc id=$ID ms=$(echo "$t0 $t1" | awk '{printf "%d", ($2 - $1) * 1000}')"
	[ $rc -eq 0 ] || echo "$out"
}
qdisc() { echo "R qdisc $1 $(ip netns exec cl /usr/sbin/tc qdisc show dev vc | tr '\n' '|')"; }

start_agent
ip netns exec cl ping -4 -c 1 -W 3 10.0.0.2 > /dev/null
ip netns exec cl ping -6 -c 1 -W 3 fd00::2 > /dev/null
ip netns exec cl ping -4 -c 1 -W 3 10.0.0.3 > /dev/null
ip netns exec cl ping -6 -c 1 -W 3 fd00::3 > /dev/null
ctl info | grep -i latency
rtt base4 4 10.0.0.3
rtt base6 6 fd00::3

for d in 50 100 500; do
	inject lat$d latency --delay ${d}ms --duration 60
	rtt lat${d}_4 4 10.0.0.3 5
	ctl revert $ID > /dev/null
done
inject lat100 latency --delay 100ms --duration 60
rtt lat100_6 6 fd00::3
qdisc during
ctl_sv faults > /dev/null; echo "R reach latency $?"
ctl revert $ID > /dev/null
qdisc reverted
rtt after 4 10.0.0.3

inject jitter latency --delay 100ms --jitter 40ms --duration 60
rtt jitter 4 10.0.0.3 15
ctl revert $ID > /dev/null

inject port latency --delay 200ms --dest-port 7000 --protocol tcp --duration 60
secs port7000 ip netns exec cl wget -q -O - http://10.0.0.3:7000/x
secs port7001 ip netns exec cl wget -q -O - http://10.0.0.3:7001/x
rtt port_icmp 4 10.0.0.3 3
ctl revert $ID > /dev/null

inject cidr latency --delay 100ms --dest 10.0.0.3/32 --duration 60
rtt cidr_in 4 10.0.0.3 5
rtt cidr_out 4 10.0.0.4 5
ctl revert $ID > /dev/null

inject v6 latency --delay 100ms --dest fd00::3 --duration 60
rtt v6_in 6 fd00::3 5
rtt v6_out 6 fd00::4 5
rtt v6_v4 4 10.0.0.3 5
ctl revert $ID > /dev/null

for p in 10 30; do
	inject loss$p loss --percent $p --duration 60
	lossrate loss$p 10.0.0.3 400
	ctl revert $ID > /dev/null
done

inject blackhole blackhole --dest 10.0.0.3 --duration 60
lossrate bh_in 10.0.0.3 20
lossrate bh_out 10.0.0.4 20
ctl_sv faults > /dev/null; echo "R reach blackhole $?"
ctl revert $ID > /dev/null

inject blackall blackhole --duration 60
ctl_sv faults > /dev/null; echo "R reach blackall $?"
ctl revert $ID > /dev/null

secs rate_base ip netns exec sv wget -q -O /dev/null http://10.0.0.1:8080/big
inject rate rate --rate 2mbit --duration 60
secs rate ip netns exec sv wget -q -O /dev/null http://10.0.0.1:8080/big
ctl revert $ID > /dev/null

inject conflict1 latency --delay 10ms --duration 60
inject conflict2 loss --percent 5 --duration 60
ctl revert --all > /dev/null

inject deadline latency --delay 100ms --duration 3
sleep 4
qdisc deadline
rtt deadline 4 10.0.0.3 3
ctl faults --output json | grep -o '"state":"[a-z]*"' | sort | uniq -c | tr '\n' ' '; echo

inject crash latency --delay 100ms --duration 120
kill -9 $AGENT
while kill -0 $AGENT 2>/dev/null; do sleep 0.1; done
sleep 0.3
qdisc killed
start_agent
qdisc restarted
grep -o '"msg":"fault [^ ]* ([a-z-]*) ended: reverted (reverted_at_startup)' /tmp/agent.log |
    head -n 1 | sed 's/.*(\([a-z-]*\)) ended: \([a-z]*\) (\([a-z_]*\))/R log \1 \2 \3/'

kill -TERM $AGENT
while kill -0 $AGENT 2>/dev/null; do sleep 0.1; done
echo "R agent_exit done"
echo "--- agent log (tail)"
tail -n 5 /tmp/agent.log
"""


@pytest.fixture(scope="module")
def run(guest):
    r = guest(SCRIPT, timeout=600)
    print(r)
    print(r.output)
    assert r.code == 0, r.output
    res = {}
    for line in r.output.splitlines():
        if line.startswith("R "):
            parts = line.split()
            res[tuple(parts[1:3])] = parts[3:]
    res["__output__"] = r.output
    res["__wall__"] = r.wall
    return res


def rtt(res, name):
    v = res.get(("rtt", name))
    assert v and len(v) == 3, (name, res["__output__"])
    return [float(x) for x in v]


def injected(res, name):
    v = res.get(("inject", name))
    assert v and v[0] == "rc=0", (name, v, res["__output__"])
    return int(v[2].split("=")[1])


def test_latency_adds_the_requested_delay(run):
    base = rtt(run, "base4")[1]
    for d in (50, 100, 500):
        injected(run, "lat%d" % d)
        mn, avg, mx = rtt(run, "lat%d_4" % d)
        added = avg - base
        print("latency %d ms: measured +%.1f ms (min %.1f)" % (d, added, mn))
        assert mn >= d * 0.98, (d, mn)
        assert abs(added - d) <= d * 0.10 + 2, (d, added)


def test_latency_over_ipv6_and_revert_restores_baseline(run):
    base6 = rtt(run, "base6")[1]
    assert rtt(run, "lat100_6")[1] - base6 >= 95
    assert "qdisc prio cafe:" in " ".join(run[("qdisc", "during")])
    assert "netem caf3:" in " ".join(run[("qdisc", "during")])
    assert "cafe:" not in " ".join(run[("qdisc", "reverted")])
    assert rtt(run, "after")[1] < 30


def test_jitter_widens_the_spread(run):
    mn, avg, mx = rtt(run, "jitter")
    base = rtt(run, "lat100_4")
    assert mx - mn > (base[2] - base[0]) + 20, (mn, avg, mx, base)
    assert 70 <= avg <= 140


def test_port_scope_delays_only_that_port(run):
    slow = float(run[("secs", "port7000")][0])
    fast = float(run[("secs", "port7001")][0])
    print("wget port 7000 (delayed): %.2f s, port 7001: %.2f s" % (slow, fast))
    assert slow >= 0.35, slow
    assert fast < 0.2, fast
    assert rtt(run, "port_icmp")[1] < 30  # ICMP is not TCP port 7000


def test_cidr_and_ipv6_scopes(run):
    assert rtt(run, "cidr_in")[0] >= 98
    assert rtt(run, "cidr_out")[1] < 30
    assert rtt(run, "v6_in")[0] >= 98
    assert rtt(run, "v6_out")[1] < 30
    assert rtt(run, "v6_v4")[1] < 30


def test_loss_is_close_to_the_request(run):
    for p in (10, 30):
        injected(run, "loss%d" % p)
        got = int(run[("loss", "loss%d" % p)][0])
        print("loss %d %%: measured %d %% over 400 pings" % (p, got))
        assert abs(got - p) <= 8, (p, got)


def test_blackhole_drops_what_matches_and_agent_stays_reachable(run):
    assert run[("loss", "bh_in")][0] == "100"
    assert run[("loss", "bh_out")][0] == "0"
    assert run[("reach", "blackhole")] == ["0"]
    # Even without a scope the agent's own port is never cut.
    assert run[("reach", "blackall")] == ["0"]
    assert run[("reach", "latency")] == ["0"]


def test_rate_limits_throughput(run):
    base = float(run[("secs", "rate_base")][0])
    limited = float(run[("secs", "rate")][0])
    kbit = 512 * 8 * 1.024 / limited
    print("512 KiB at 2mbit: %.2f s (%.0f kbit/s; unlimited %.2f s)" % (limited, kbit, base))
    assert 1700 <= kbit <= 2300, kbit


def test_one_network_fault_per_interface(run):
    injected(run, "conflict1")
    v = run[("inject", "conflict2")]
    assert v[0] == "rc=1", v
    assert "already impairs vc" in run["__output__"]


def test_deadline_and_crash_recovery_remove_our_qdiscs(run):
    assert "cafe:" not in " ".join(run[("qdisc", "deadline")])
    assert rtt(run, "deadline")[1] < 30
    assert "cafe:" in " ".join(run[("qdisc", "killed")])  # kill -9 left it
    assert "cafe:" not in " ".join(run[("qdisc", "restarted")])
    assert run[("log", "latency")] == ["reverted", "reverted_at_startup"]
    assert ("agent_exit", "done") in run
