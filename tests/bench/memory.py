"""The idle agent's memory, page by page (make bench runs it; needs root).

    python3 tests/bench/memory.py [AGENT...]

Measures each AGENT, by default the package's binary when packaging/build.sh
has made it (build/pkg/out/ARCH/chaos-agent: every library but glibc
linked in, what hosts run) and the development build (bin/chaos-agent,
shared libraries). Starts it alone on 127.0.0.1 with a fresh key and
state directory, has it answer two signed requests of chaosctl (as a
host's agent has between experiments), waits until it is idle, then reads /proc/PID/maps and
/proc/PID/pagemap of the parent and the worker and counts every physical
page that either maps once. That total is what the two processes cost
when nothing else shares their libraries (a fresh host, a sidecar
container): the sum of their PSS in that case, whatever else happens to
run on this machine now. Each page is filed under what holds it:

  the binary, by section: text; rodata (everything read-only that is not
  relocated: .rodata, .eh_frame, .rela.dyn, .dynsym, ...); relro
  (.data.rel.ro, .got: written by relocation at start, read-only after);
  data; bss. Then libc, ld.so, other libraries, heap, other anonymous
  memory, stack.

A page holding two sections counts under the first. Prints the table and
each process's RSS, PSS and private memory from smaps_rollup (those depend
on what else runs here). Asserts nothing.
"""
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
PAGE = os.sysconf("SC_PAGE_SIZE")
CLASSES = ["text", "rodata", "relro", "data", "bss", "libc", "ld.so", "other libs",
           "heap", "anon", "stack"]


def sections(path):
    """[(start, end, name)] of the allocated sections of ELF file path."""
    out = subprocess.run(["readelf", "-SW", path], capture_output=True, text=True,
                         check=True).stdout
    secs = []
    for line in out.splitlines():
        m = re.match(r"\s*\[\s*\d+\]\s+(\S+)\s+\S+\s+([0-9a-f]+)\s+[0-9a-f]+\s+([0-9a-f]+)"
                     r"\s+\S+\s+(\S*)", line)
        if not m or "A" not in m.group(4):
            continue
        start, size = int(m.group(2), 16), int(m.group(3), 16)
        if size:
            secs.append((start, start + size, m.group(1)))
    return secs


def relro_range(path):
    out = subprocess.run(["readelf", "-lW", path], capture_output=True, text=True,
                         check=True).stdout
    for line in out.splitlines():
        f = line.split()
        if f and f[0] == "GNU_RELRO":
            return int(f[2], 16), int(f[2], 16) + int(f[5], 16)
    return 0, 0


def section_class(name, addr, relro):
    if name == ".bss":
        return "bss"
    if relro[0] <= addr < relro[1]:
        return "relro"
    if name in (".data", ".tm_clone_table") or name.startswith(".data."):
        return "data"
    if name in (".text", ".init", ".fini", ".plt", ".plt.got", ".plt.sec"):
        return "text"
    return "rodata"


def maps(pid):
    out = []
    with open(f"/proc/{pid}/maps") as f:
        for line in f:
            p = line.split(None, 5)
            lo, hi = (int(x, 16) for x in p[0].split("-"))
            out.append((lo, hi, p[1], int(p[2], 16), p[5].strip() if len(p) > 5 else ""))
    return out


def pfns(pid, lo, hi):
    """{vaddr: pfn} of the present pages in [lo, hi)."""
    n = (hi - lo) // PAGE
    with open(f"/proc/{pid}/pagemap", "rb") as f:
        f.seek(lo // PAGE * 8)
        raw = f.read(n * 8)
    got = {}
    for i, (e,) in enumerate(struct.iter_unpack("<Q", raw)):
        if e >> 63:  # present (a swapped page would be bit 62)
            got[lo + i * PAGE] = e & ((1 << 55) - 1)
    return got


def classify(pid, binary, secs, relro):
    """{pfn: class} of every present page of pid."""
    mm = maps(pid)
    real = os.path.realpath(binary)
    base = min(lo - off for lo, hi, perm, off, name in mm
               if name and os.path.realpath(name) == real)
    top = base + max(s[1] for s in secs)
    out = {}
    for lo, hi, perm, off, name in mm:
        if name in ("[vvar]", "[vdso]", "[vsyscall]", "[vvar_vclock]"):
            continue
        for va, pfn in pfns(pid, lo, hi).items():
            rel = va - base
            if (name and os.path.realpath(name) == real) or (not name and base <= va < top):
                cls = "bss"
                for s, e, sname in secs:
                    # The first section on the page: what brought it in.
                    if s < rel + PAGE and e > rel:
                        cls = section_class(sname, max(s, rel), relro)
                        break
            elif "/libc." in name or "/libc-" in name:
                cls = "libc"
            elif "/ld-linux" in name or "/ld-" in name:
                cls = "ld.so"
            elif name == "[heap]":
                cls = "heap"
            elif name == "[stack]":
                cls = "stack"
            elif name.startswith("/"):
                cls = "other libs"
            else:
                cls = "anon"
            out.setdefault(pfn, cls)
    return out


def rollup(pid):
    vals = {}
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            k, _, rest = line.partition(":")
            if k in ("Rss", "Pss", "Private_Clean", "Private_Dirty"):
                vals[k] = int(rest.split()[0])
    return vals


def children(pid):
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    s = f.read()
            except OSError:
                continue
            if int(s[s.rindex(")") + 2:].split()[1]) == pid:
                out.append(int(d))
    return out


def start(agent, tmp):
    key = os.path.join(tmp, "agent.key")
    fd = os.open(key, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.write(fd, b"bench " + os.urandom(32).hex().encode() + b"\n")
    os.close(fd)
    log = open(os.path.join(tmp, "agent.log"), "w+")
    proc = subprocess.Popen([agent, "--listen", "127.0.0.1:0", "--key-file", key,
                             "--state-dir", os.path.join(tmp, "state")], stderr=log)
    deadline = time.time() + 5
    while time.time() < deadline:
        log.seek(0)
        for line in log:
            try:
                ev = json.loads(line)
                if ev.get("event") == "listening":
                    return proc, key, ev["port"]
            except ValueError:
                pass
        time.sleep(0.02)
    proc.kill()
    raise SystemExit("memory: the agent did not start: " + open(log.name).read()[-400:])


def serve(key, port):
    """What a host's agent has done between two experiments: answered
    chaosctl's signed requests (a fault list and info), so the code that
    checks a signature has run in both processes."""
    ctl = os.path.join(ROOT, "bin", "chaosctl")
    if not os.path.exists(ctl):
        raise SystemExit("memory: bin/chaosctl is missing: run make first")
    for cmd in ("faults", "info"):
        subprocess.run([ctl, "--agent", "http://127.0.0.1:%d" % port, "--key-file", key, cmd],
                       check=True, capture_output=True, timeout=30)


def sample(agent, secs, relro, idle):
    """One start of agent: ({pfn: class} of both, {role: ({pfn: class}, rollup)})."""
    tmp = tempfile.mkdtemp(prefix="chaos-mem.")
    proc, key, port = start(agent, tmp)
    try:
        serve(key, port)
        time.sleep(idle)
        pids = [("parent", proc.pid)] + [("worker", k) for k in children(proc.pid)]
        pages, per = {}, {}
        for role, pid in pids:
            got = classify(pid, agent, secs, relro)
            per[role] = (got, rollup(pid))
            for pfn, cls in got.items():
                pages.setdefault(pfn, cls)
        return pages, per
    finally:
        proc.terminate()
        proc.wait(10)
        shutil.rmtree(tmp, ignore_errors=True)


def measure(agent, rounds=5, idle=1.0):
    """Prints the table for one agent binary, from the median of rounds
    starts (how much of libc fault-around maps varies a little from one
    start to the next); returns the total in KiB."""
    secs = sections(agent)
    relro = relro_range(agent)
    runs = sorted((sample(agent, secs, relro, idle) for _ in range(rounds)),
                  key=lambda r: len(r[0]))
    totals = [len(r[0]) * PAGE // 1024 for r in runs]
    pages, per = runs[len(runs) // 2]
    kib = PAGE // 1024
    total = {c: 0 for c in CLASSES}
    for cls in pages.values():
        total[cls] += kib
    print(f"== idle agent memory: {agent}")
    print(f"  {'mapping':<11} {'parent':>7} {'worker':>7} {'unique':>7}  (KiB; unique = "
          "each physical page of both once)")
    for c in CLASSES:
        cells = [sum(kib for v in per[r][0].values() if v == c) if r in per else 0
                 for r in ("parent", "worker")]
        if cells[0] or cells[1] or total[c]:
            print(f"  {c:<11} {cells[0]:>7} {cells[1]:>7} {total[c]:>7}")
    binary = sum(total[c] for c in ("text", "rodata", "relro", "data", "bss"))
    whole = sum(total.values())
    print(f"  {'binary':<11} {'':>7} {'':>7} {binary:>7}")
    print(f"  {'total':<11} {'':>7} {'':>7} {whole:>7}  = {whole / 1024:.2f} MiB standalone "
          f"PSS of parent + worker (median of {rounds} starts: "
          f"{', '.join(str(t) for t in totals)} KiB)")
    for role, (got, r) in per.items():
        print(f"  {role}: RSS {r['Rss']} KiB, PSS {r['Pss']} KiB here, private "
              f"{r['Private_Clean'] + r['Private_Dirty']} KiB")
    relocs = subprocess.run(["readelf", "-rW", agent], capture_output=True, text=True,
                            check=True).stdout.count("R_X86_64_RELATIVE")
    if relocs:
        print(f"  {relocs} R_X86_64_RELATIVE relocations")
    return whole


def main(argv):
    agents = [os.path.abspath(a) for a in argv[1:]]
    if not agents:
        arch = {"x86_64": "amd64", "aarch64": "arm64"}.get(os.uname().machine, "")
        pkg = os.path.join(ROOT, "build", "pkg", "out", arch, "chaos-agent")
        agents = [a for a in (pkg, os.path.join(ROOT, "bin", "chaos-agent"))
                  if os.path.exists(a)]
    if os.geteuid() != 0:
        print("memory: needs root (pagemap frame numbers); skipped")
        return 0
    for a in agents:
        measure(a)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
