"""What every test layer asks of /proc and of time, in one place: waiting
for an observable condition (never sleeping in the hope it holds), a
process's state and children, and the TCP connections of a port."""
import os
import time


def wait_for(pred, timeout, interval=0.02, desc="condition", what=None):
    """Poll pred until it returns a truthy value; return it or raise
    AssertionError naming what was awaited."""
    desc = what or desc
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError("timed out after %.1fs waiting for %s" % (timeout, desc))
        time.sleep(interval)


def proc_stat(pid):
    """Fields of /proc/PID/stat from 'state' on (index 0 = field 3), or None."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            data = f.read()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return data[data.rindex(")") + 2:].split()


def proc_alive(pid):
    """True if pid exists and is not a zombie."""
    st = proc_stat(pid)
    return st is not None and st[0] not in ("Z", "X")


def proc_comm(pid):
    try:
        with open("/proc/%d/comm" % pid) as f:
            return f.read().strip()
    except OSError:
        return None


def proc_children(pid):
    """The children of every thread of pid."""
    kids = []
    try:
        for tid in os.listdir("/proc/%d/task" % pid):
            try:
                with open("/proc/%d/task/%s/children" % (pid, tid)) as f:
                    kids += [int(x) for x in f.read().split()]
            except OSError:
                pass
    except OSError:
        pass
    return kids


def catches_signal(pid, sig):
    """True once pid has installed a handler for sig (SigCgt in status)."""
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("SigCgt:"):
                    return bool(int(line.split()[1], 16) >> (int(sig) - 1) & 1)
    except OSError:
        pass
    return False


def established(port):
    """Server-side ESTABLISHED TCP connections on a local port (IPv4 and
    IPv6) that the server has accepted (a socket inode: not merely in the
    listen queue), from /proc/net/tcp*: what the server holds open."""
    n = 0
    for path in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(path) as f:
                next(f)
                for line in f:
                    fields = line.split()
                    local, state, inode = fields[1], fields[3], fields[9]
                    if (state == "01" and inode != "0" and
                            int(local.rsplit(":", 1)[1], 16) == port):
                        n += 1
        except OSError:
            pass
    return n


def sched_ns(pid):
    """(ns on a CPU, ns runnable but waiting for one) of pid, from
    /proc/PID/schedstat; None when it is gone."""
    try:
        with open("/proc/%d/schedstat" % pid) as f:
            run, wait, _ = f.read().split()
    except (OSError, ValueError):
        return None
    return int(run), int(wait)


def burn_held(used_pct, waited_pct, want, tolerance=10.0):
    """Did a burner hold want % (within tolerance)? On a busy machine the
    scheduler may give it less: a shortfall it spent runnable, waiting for
    a CPU (waited_pct, from sched_ns), is the machine's, not the fault's.
    Overshooting is never excused."""
    if used_pct > want + tolerance:
        return False
    return used_pct >= want - tolerance or used_pct + waited_pct >= want - tolerance
