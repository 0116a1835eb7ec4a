"""make bench, VM part: how long `chaosctl inject latency` takes from the
call to the qdisc in place, inside a qemu guest (software emulation) with
Debian's cloud kernel, which has sch_netem. Prints numbers; asserts nothing.
Skipped, with the reason, when the VM layer cannot run here."""
import os
import re
import shutil
import subprocess
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))

import vm  # noqa: E402

SCRIPT = r"""
set -u
ip link add va type veth peer name vb
ip addr add 10.9.0.1/24 dev va
ip link set va up
ip link set vb up
chaosctl keygen --out /tmp/k 2>/dev/null
chaos-agent --listen 127.0.0.1:8421 --key-file /tmp/k --state-dir /tmp/st >/tmp/a.log 2>&1 &
ctl() { chaosctl --agent http://127.0.0.1:8421 --key-file /tmp/k "$@"; }
i=0
until ctl info > /dev/null 2>&1; do i=$((i + 1)); [ $i -lt 100 ] || exit 1; sleep 0.1; done
for n in 1 2 3 4 5; do
	t0=$(cut -d' ' -f1 /proc/uptime)
	ctl inject latency --delay 100ms --interface va --duration 60 > /dev/null || exit 2
	t1=$(cut -d' ' -f1 /proc/uptime)
	tc qdisc show dev va | grep -q netem || exit 3
	echo "R inject $(echo "$t0 $t1" | awk '{printf "%d", ($2 - $1) * 1000}')"
	t0=$(cut -d' ' -f1 /proc/uptime)
	ctl revert --all > /dev/null || exit 4
	t1=$(cut -d' ' -f1 /proc/uptime)
	echo "R revert $(echo "$t0 $t1" | awk '{printf "%d", ($2 - $1) * 1000}')"
done
"""


def main():
    if not shutil.which(vm.QEMU):
        print("== VM: skipped (%s is not installed)" % vm.QEMU)
        return
    r = subprocess.run([vm.BUILD_SCRIPT], cwd=ROOT, capture_output=True, text=True)
    if r.returncode != 0 or vm.prerequisites():
        print("== VM: skipped (the initramfs could not be built)")
        return
    res = vm.run_guest_ex(SCRIPT, timeout=600)
    if res.code != 0:
        print("== VM: the guest script failed (exit %d):\n%s" % (res.code, res.output[-2000:]))
        return
    inj = [int(x) for x in re.findall(r"^R inject (\d+)", res.output, re.M)]
    rev = [int(x) for x in re.findall(r"^R revert (\d+)", res.output, re.M)]
    print("== network faults in a qemu guest (software emulation, %.0f s to boot and run)"
          % res.wall)
    print("chaosctl inject latency, call to netem in place: %s ms (median %d)"
          % (inj, sorted(inj)[len(inj) // 2]))
    print("chaosctl revert --all, call to qdiscs removed: %s ms (median %d)"
          % (rev, sorted(rev)[len(rev) // 2]))


if __name__ == "__main__":
    main()
