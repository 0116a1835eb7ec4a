"""Proof that the VM layer can test network faults: netem in a real kernel
(Debian 12's cloud kernel under qemu), between two network namespaces, and
our binaries running in the guest."""
import re

# Two namespaces joined by a veth pair; ping from a to b before, during and
# after a 100 ms netem delay on a's end. Lines "RTT <family> <phase> min avg
# max" are for the host to check.
NETEM_SCRIPT = r"""
set -eu
ip netns add a
ip netns add b
ip link add va type veth peer name vb
ip link set va netns a
ip link set vb netns b
ip -n a addr add 10.0.0.1/24 dev va
ip -n b addr add 10.0.0.2/24 dev vb
ip -n a addr add fd00::1/64 dev va nodad
ip -n b addr add fd00::2/64 dev vb nodad
for ns in a b; do
	ip -n $ns link set lo up
done
ip -n a link set va up
ip -n b link set vb up

rtt() {  # rtt FAMILY PHASE ADDR
	out=$(ip netns exec a ping -$1 -c 10 -i 0.2 -W 5 $3)
	echo "$out" | tail -n 2
	set -- $1 $2 $(echo "$out" | sed -n 's,.*min/avg/max = \([0-9.]*\)/\([0-9.]*\)/\([0-9.]*\) ms.*,\1 \2 \3,p')
	echo "RTT $1 $2 $3 $4 $5"
}
# Warm up neighbour tables so that ARP/ND do not count.
ip netns exec a ping -4 -c 1 -W 5 10.0.0.2 >/dev/null
ip netns exec a ping -6 -c 1 -W 5 fd00::2 >/dev/null

rtt 4 base 10.0.0.2
rtt 6 base fd00::2
ip netns exec a tc qdisc add dev va root netem delay 100ms
ip netns exec a tc qdisc show dev va
rtt 4 netem 10.0.0.2
rtt 6 netem fd00::2
ip netns exec a tc qdisc del dev va root
ip netns exec a tc qdisc show dev va
rtt 4 after 10.0.0.2
rtt 6 after fd00::2
"""

AGENT_SCRIPT = r"""
set -eu
chaos-agent --version
chaosctl version
chaosctl keygen --out /tmp/k
chaos-agent --listen 127.0.0.1:8421 --key-file /tmp/k --state-dir /tmp/st \
	> /tmp/agent.log 2>&1 &
agent=$!
i=0
until chaosctl --agent http://127.0.0.1:8421 --key-file /tmp/k info > /tmp/info 2>&1; do
	i=$((i + 1))
	if [ $i -ge 100 ] || ! kill -0 $agent 2>/dev/null; then
		echo "agent did not answer:"; cat /tmp/info; cat /tmp/agent.log
		exit 1
	fi
	sleep 0.1
done
echo "--- info"
cat /tmp/info
echo "--- worker user"
ps -o user,pid,args | grep '[c]haos-agent'
kill -TERM $agent
wait $agent || echo "agent exited $?"
echo "--- agent log"
cat /tmp/agent.log
"""


def parse_rtts(output):
    rtts = {}
    for fam, phase, mn, avg, mx in re.findall(
            r"^RTT (\d) (\w+) ([0-9.]+) ([0-9.]+) ([0-9.]+)\s*$", output, re.M):
        rtts[(fam, phase)] = (float(mn), float(avg), float(mx))
    return rtts


def test_netem_delay_between_namespaces(guest):
    r = guest(NETEM_SCRIPT, timeout=300)
    print(r)
    print(r.output)
    assert r.code == 0, r.output
    rtts = parse_rtts(r.output)
    for fam in ("4", "6"):
        for phase in ("base", "netem", "after"):
            assert (fam, phase) in rtts, "no RTT %s/%s in:\n%s" % (fam, phase, r.output)
        base, netem, after = (rtts[(fam, p)] for p in ("base", "netem", "after"))
        # Baseline: no delay (software emulation still answers in a few ms).
        assert base[1] < 30, (fam, base)
        assert after[1] < 30, (fam, after)
        # With netem: every echo request waits 100 ms on va, replies don't.
        assert netem[0] >= 99, (fam, netem)
        assert 95 <= netem[1] - base[1] <= 150, (fam, base, netem)
    assert "netem" in r.output and "delay 100ms" in r.output


def test_binaries_run_and_agent_serves(guest):
    r = guest(AGENT_SCRIPT, timeout=300)
    print(r)
    print(r.output)
    assert r.code == 0, r.output
    assert re.search(r"^chaos-agent \S+", r.output, re.M), r.output
    info = r.output.split("--- info", 1)[1].split("--- worker user", 1)[0]
    assert info.strip(), r.output
    workers = r.output.split("--- worker user", 1)[1].split("--- agent log", 1)[0]
    # The parent stays root; the HTTP worker runs as nobody.
    assert "nobody" in workers, r.output
