"""The test layers' VMs, under qemu in software emulation (TCG) with Debian
12's cloud kernel. Two kinds:

- run_guest: a throwaway VM that runs one shell script, booted from the
  initramfs that tests/vm/build-initramfs.sh makes (busybox, tc, ip,
  chaos-agent, chaosctl, the network fault modules);
- Instance: a container instance booted from the disk image that
  tests/instance/build-image.sh makes (systemd, Docker, cgroup v2 only, the
  packaged chaos-agent under its unit), driven over ssh and HTTP.

    from vm import run_guest
    code, out = run_guest("tc qdisc add dev lo root netem delay 10ms\\n")

The script (and any extra files) go into a second, small cpio archive that
is appended to the base initramfs: the kernel unpacks concatenated archives
in order, so the guest sees /guest/run.sh (and the extra files) on top of
the base tree. The guest's /init runs `sh /guest/run.sh` from /guest,
prints "GUEST-EXIT <code>" on the serial console and powers off.

Stdlib only. The guest side is busybox sh.
"""
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
VM_DIR = os.path.join(ROOT, "build", "vm")
KERNEL = os.path.join(VM_DIR, "vmlinuz")
INITRD = os.path.join(VM_DIR, "initramfs.cpio.gz")
BUILD_SCRIPT = os.path.join(ROOT, "tests", "vm", "build-initramfs.sh")
QEMU = os.environ.get("CHAOS_VM_QEMU", "qemu-system-x86_64")

# Not anchored at a line start: the script's last line may lack its newline.
EXIT_RE = re.compile(r"GUEST-EXIT (\d+)(?: ([0-9.]+))?[ \t]*$", re.M)
BOOT_RE = re.compile(r"^GUEST-BOOT ([0-9.]+)\s*$", re.M)
START_RE = re.compile(r"^GUEST-START ([0-9.]+)\s*$", re.M)


class VMError(RuntimeError):
    """The VM could not run the script: no qemu, no kernel, a boot failure,
    a timeout. The guest's output so far is in .output."""

    def __init__(self, msg, output=""):
        super().__init__(msg)
        self.output = output


class VMTimeout(VMError):
    pass


class GuestResult:
    """What run_guest_ex returns. Times are in seconds: boot is the guest
    kernel's uptime when /init started, start when the script started
    (modules loaded), wall the host's time from qemu's start to its end,
    to_script the host's time from qemu's start to the script's start."""

    def __init__(self, code, output, wall, to_script, boot, start):
        self.code = code
        self.output = output
        self.wall = wall
        self.to_script = to_script
        self.boot = boot
        self.start = start

    def __repr__(self):
        return ("GuestResult(code=%r, wall=%.2fs, to_script=%s, guest boot=%s, "
                "guest start=%s)" % (self.code, self.wall, self.to_script,
                                     self.boot, self.start))


def prerequisites():
    """A list of what is missing on the host to boot the VM (empty: all
    there). Tests fail, not skip, when something is: CI installs it all."""
    missing = []
    if shutil.which(QEMU) is None:
        missing.append("%s (apt-get install qemu-system-x86, or run "
                       "scripts/install-deps.sh)" % QEMU)
    for f in (KERNEL, INITRD):
        if not os.path.isfile(f):
            missing.append("%s (run tests/vm/build-initramfs.sh, or make check-vm)"
                           % os.path.relpath(f, ROOT))
    return missing


# ---- cpio (newc) ----------------------------------------------------------

def _newc_entry(name, mode, data=b"", ino=0, mtime=0):
    namez = name.encode() + b"\0"
    hdr = "070701" + "".join("%08X" % v for v in (
        ino, mode, 0, 0, 1, mtime, len(data), 0, 0, 0, 0, len(namez), 0))
    out = hdr.encode() + namez
    out += b"\0" * (-len(out) % 4)
    out += data
    out += b"\0" * (-len(out) % 4)
    return out


def make_cpio(files):
    """A newc archive of files: {guest path: (mode, bytes)}, parents first,
    every missing parent directory added (the kernel does not create them),
    all owned by root."""
    entries = {}
    for path, (mode, data) in files.items():
        rel = path.strip("/")
        parts = rel.split("/")
        for i in range(1, len(parts)):
            entries.setdefault("/".join(parts[:i]), (0o040755, b""))
        entries[rel] = (mode, data)
    out = bytearray()
    for ino, name in enumerate(sorted(entries, key=lambda n: (n.count("/"), n)), 1):
        mode, data = entries[name]
        out += _newc_entry(name, mode, data, ino=ino)
    out += _newc_entry("TRAILER!!!", 0)
    out += b"\0" * (-len(out) % 512)
    return bytes(out)


def _guest_files(script_text, extra_files):
    files = {"/guest/run.sh": (0o100755, script_text.encode()
                               if isinstance(script_text, str) else script_text)}
    for path, value in (extra_files or {}).items():
        if not path.startswith("/"):
            path = "/guest/" + path
        if isinstance(value, (str, bytes)):
            data = value.encode() if isinstance(value, str) else value
            mode = 0o100755 if data.startswith(b"#!") else 0o100644
        elif isinstance(value, tuple):
            mode, data = value
            data = data.encode() if isinstance(data, str) else data
            mode |= 0o100000
        elif isinstance(value, os.PathLike):
            with open(value, "rb") as f:
                data = f.read()
            mode = 0o100000 | (os.stat(value).st_mode & 0o7777)
        else:
            raise TypeError("extra_files[%r]: bytes, str, (mode, data) or a "
                            "pathlib.Path of a host file" % path)
        files[path] = (mode, data)
    return files


# ---- qemu -----------------------------------------------------------------

# Kernel options of both kinds of VM: a serial console, and none of what
# only costs time in a test VM.
FAST_CMDLINE = ("console=ttyS0 panic=-1 quiet loglevel=3 "
                "mitigations=off nokaslr tsc=reliable no_timer_check "
                "i8042.noaux i8042.nokbd i8042.nopnp")


# Seconds an instance may take from power-on (or reset) to a ready agent.
INSTANCE_READY_TIMEOUT = int(os.environ.get("CHAOS_INSTANCE_READY_TIMEOUT", "600"))


def _qemu_base(memory, smp, cpu="max"):
    return [
        QEMU,
        "-machine", "pc,accel=tcg",
        "-cpu", cpu,
        "-m", str(memory),
        "-smp", str(smp),
        "-nodefaults", "-no-user-config",
        "-display", "none",
    ]


def qemu_argv(initrd, memory=512, smp=2, append=""):
    cmdline = (FAST_CMDLINE + " rdinit=/init " + append).strip()
    return _qemu_base(memory, smp) + [
        "-nic", "none",
        "-serial", "stdio",
        "-monitor", "none",
        "-no-reboot",
        "-kernel", KERNEL,
        "-initrd", initrd,
        "-append", cmdline,
    ]


def run_guest_ex(script_text, timeout=300, extra_files=None, memory=512, smp=2,
                 append="", echo=None):
    """Boot the VM, run script_text in the guest, return a GuestResult.
    Raises VMError when the host lacks something or the guest never
    reports an exit code, VMTimeout (qemu killed) after timeout seconds.
    echo: a file to copy the console output to as it comes (e.g.
    sys.stderr), or None; CHAOS_VM_ECHO=1 in the environment echoes to
    stderr."""
    missing = prerequisites()
    if missing:
        raise VMError("the VM test layer is not set up; missing:\n  " +
                      "\n  ".join(missing))
    if echo is None and os.environ.get("CHAOS_VM_ECHO") == "1":
        import sys
        echo = sys.stderr

    tmp = tempfile.mkdtemp(prefix="chaos-vm-")
    try:
        initrd = os.path.join(tmp, "initrd")
        with open(initrd, "wb") as out, open(INITRD, "rb") as base:
            shutil.copyfileobj(base, out)
            # The kernel looks for the next archive's "070701" at a
            # 4-byte boundary and skips zeros in between.
            out.write(b"\0" * (-out.tell() % 4))
            out.write(make_cpio(_guest_files(script_text, extra_files)))

        argv = qemu_argv(initrd, memory=memory, smp=smp, append=append)
        chunks = []
        marks = {}
        t0 = time.monotonic()
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                start_new_session=True)

        def reader():
            buf = b""
            for raw in iter(lambda: proc.stdout.readline(), b""):
                line = raw.decode("utf-8", "replace").replace("\r", "")
                buf += raw
                if line.startswith("GUEST-START") and "start" not in marks:
                    marks["start"] = time.monotonic() - t0
                chunks.append(line)
                if echo is not None:
                    echo.write(line)
                    echo.flush()

        th = threading.Thread(target=reader, daemon=True)
        th.start()
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            th.join(5)
            raise VMTimeout("the guest did not finish in %ss (qemu killed)" % timeout,
                            "".join(chunks))
        th.join(10)
        wall = time.monotonic() - t0
        output = "".join(chunks)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    exits = list(EXIT_RE.finditer(output))
    m = exits[-1] if exits else None
    if m is None:
        raise VMError("the guest reported no exit code (qemu exited %s); output:\n%s"
                      % (proc.returncode, output[-4000:]), output)
    boot = BOOT_RE.search(output)
    start = START_RE.search(output)
    # The script's own output: between the start and exit markers.
    body_start = start.end() + 1 if start else 0
    body = output[body_start:m.start()]
    return GuestResult(int(m.group(1)), body, wall, marks.get("start"),
                       float(boot.group(1)) if boot else None,
                       float(start.group(1)) if start else None)


def run_guest(script_text, timeout=300, extra_files=None):
    """Run script_text (busybox sh) in a fresh VM. Returns (exit_code,
    output): the script's exit code and what it printed on the console.
    extra_files: {guest path: content}; a relative path lands under /guest;
    content is bytes or str (mode 0644, 0755 when it starts with "#!"),
    (mode, bytes), or a pathlib.Path naming a host file to copy."""
    r = run_guest_ex(script_text, timeout=timeout, extra_files=extra_files)
    return r.code, r.output


def build(force=False):
    """Run tests/vm/build-initramfs.sh (cheap when up to date)."""
    argv = [BUILD_SCRIPT] + (["--force"] if force else [])
    subprocess.run(argv, check=True, cwd=ROOT)



# ---- the container instance ------------------------------------------------

INSTANCE_DIR = os.path.join(ROOT, "build", "instance")
INSTANCE_BUILD = os.path.join(ROOT, "tests", "instance", "build-image.sh")
# qemu's user network: the guest has 10.0.2.15, the host is 10.0.2.2.
GUEST_IP = "10.0.2.15"
AGENT_PORT = 8421


def _free_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Instance:
    """The container-instance VM: build/instance/disk.img booted with
    snapshot=on (every boot starts from the image; the guest's writes live
    until qemu exits, so a reset keeps them), systemd as init on cgroup v2
    only. The host reaches the guest's sshd and the agent through qemu's
    user-network forwards on 127.0.0.1.

        inst = Instance().boot()
        inst.ssh("systemctl is-active chaos-agent")
        subprocess.run([chaosctl, "--agent", inst.agent_url, ...])
        inst.reset(); inst.wait_ready()
        inst.stop()
    """

    def __init__(self, memory=2048, smp=2, directory=INSTANCE_DIR, echo=None,
                 cpu=os.environ.get("CHAOS_INSTANCE_CPU", "max")):
        self.cpu = cpu
        self.dir = directory
        self.memory = memory
        self.smp = smp
        self.echo = echo
        self.tmp = None
        self.proc = None
        self.ssh_port = None
        self.agent_port = None
        self.console_path = None
        self.key_file = os.path.join(directory, "agent.key")
        self.ssh_key = os.path.join(directory, "ssh", "id_ed25519")
        self.boots = []          # seconds from qemu's start (or reset) to ready

    def prerequisites(self):
        missing = []
        if shutil.which(QEMU) is None:
            missing.append(QEMU + " (scripts/install-deps.sh)")
        for f in ("disk.img", "vmlinuz", "initrd", "cmdline", "agent.key", "ssh/id_ed25519"):
            if not os.path.isfile(os.path.join(self.dir, f)):
                missing.append("%s (tests/instance/build-image.sh, or make check-instance)"
                               % os.path.relpath(os.path.join(self.dir, f), ROOT))
        return missing

    @property
    def agent_url(self):
        return "http://127.0.0.1:%d" % self.agent_port

    def argv(self):
        fwd = ("user,id=n0,hostfwd=tcp:127.0.0.1:%d-:22,"
               "hostfwd=tcp:127.0.0.1:%d-%s:%d"
               % (self.ssh_port, self.agent_port, GUEST_IP, AGENT_PORT))
        return _qemu_base(self.memory, self.smp, self.cpu) + [
            "-netdev", fwd, "-device", "virtio-net-pci,netdev=n0",
            "-drive", "file=%s,format=raw,if=virtio,snapshot=on,cache=unsafe"
            % os.path.join(self.dir, "disk.img"),
            "-serial", "file:" + self.console_path,
            "-monitor", "unix:%s,server,nowait" % os.path.join(self.tmp, "monitor"),
            "-kernel", os.path.join(self.dir, "vmlinuz"),
            "-initrd", os.path.join(self.dir, "initrd"),
            "-append", FAST_CMDLINE + " " + self.image_cmdline(),
        ]

    def image_cmdline(self):
        """The kernel options the image was built for (build-image.sh)."""
        with open(os.path.join(self.dir, "cmdline")) as f:
            return f.read().strip()

    def boot(self, timeout=None):
        missing = self.prerequisites()
        if missing:
            raise VMError("the instance VM is not built; missing:\n  " + "\n  ".join(missing))
        self.tmp = tempfile.mkdtemp(prefix="chaos-instance-")
        self.console_path = os.path.join(self.tmp, "console.log")
        self.ssh_port = _free_port()
        self.agent_port = _free_port()
        t0 = time.monotonic()
        self.proc = subprocess.Popen(self.argv(), stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL,
                                     stderr=open(os.path.join(self.tmp, "qemu.err"), "wb"),
                                     start_new_session=True)
        self.wait_ready(timeout, t0)
        return self

    def console(self):
        try:
            with open(self.console_path, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def _ssh_argv(self, command):
        return ["ssh", "-F", "/dev/null", "-i", self.ssh_key, "-p", str(self.ssh_port),
                "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no",
                "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR",
                "-o", "ConnectTimeout=10",
                "-o", "ServerAliveInterval=5", "-o", "ServerAliveCountMax=3",
                "-o", "ControlMaster=auto",
                "-o", "ControlPath=" + os.path.join(self.tmp, "ssh-%C"),
                "-o", "ControlPersist=300",
                "root@127.0.0.1", "--", command]

    def ssh(self, command, check=True, timeout=120, input=None):
        """Run command (a shell command line) in the guest as root; returns
        the CompletedProcess (text). check: raise VMError on a non-zero
        exit, with what the command printed."""
        if self.proc is None or self.proc.poll() is not None:
            raise VMError("the instance VM is not running", self.console()[-3000:])
        short = command if len(command) <= 160 else command[:160] + "..."
        try:
            p = subprocess.run(self._ssh_argv(command), input=input, capture_output=True,
                               text=True, timeout=timeout)
        except subprocess.TimeoutExpired as e:
            raise VMTimeout("guest command timed out after %ss: %s" % (timeout, short),
                            str(e.stdout or "")[-2000:] + str(e.stderr or "")[-2000:]) from None
        if check and p.returncode != 0:
            raise VMError("guest command failed (exit %d): %s\n%s%s"
                          % (p.returncode, short, p.stdout[-2000:], p.stderr[-2000:]))
        return p

    def put(self, path, data, mode="0644"):
        """Write data (bytes) to path in the guest."""
        p = subprocess.run(self._ssh_argv("cat >%s && chmod %s %s" % (path, mode, path)),
                           input=data, capture_output=True, timeout=120)
        if p.returncode != 0:
            raise VMError("could not write %s in the guest (exit %d)" % (path, p.returncode),
                          p.stderr.decode("utf-8", "replace")[-2000:])

    def _agent_health(self):
        import urllib.request
        try:
            with urllib.request.urlopen(self.agent_url + "/v1/health", timeout=3) as r:
                return r.status == 200
        except OSError:
            return False

    def wait_ready(self, timeout=None, t0=None):
        """Until the guest's sshd answers, Docker and the agent are active
        and the agent answers /v1/health through its forward. Records the
        seconds it took from t0 (default: now) in self.boots. timeout:
        INSTANCE_READY_TIMEOUT unless given (software emulation on a busy
        2-core machine takes minutes where an idle one takes about one)."""
        timeout = INSTANCE_READY_TIMEOUT if timeout is None else timeout
        t0 = time.monotonic() if t0 is None else t0
        deadline = t0 + timeout
        while True:
            if self.proc.poll() is not None:
                raise VMError("qemu exited (%s) before the guest was ready"
                              % self.proc.returncode, self.console()[-3000:])
            if self._agent_health():
                p = self.ssh("systemctl is-active docker chaos-agent", check=False,
                             timeout=30)
                if p.returncode == 0:
                    break
            if time.monotonic() > deadline:
                raise VMTimeout("the instance was not ready after %ss" % timeout,
                                self.console()[-3000:])
            time.sleep(0.5)
        self.boots.append(time.monotonic() - t0)
        return self.boots[-1]

    def monitor(self, command):
        """One command on qemu's human monitor (system_reset, quit, ...)."""
        import socket
        with socket.socket(socket.AF_UNIX) as s:
            s.settimeout(10)
            s.connect(os.path.join(self.tmp, "monitor"))
            s.sendall(command.encode() + b"\n")
            time.sleep(0.2)

    def _drop_ssh_master(self):
        subprocess.run(self._ssh_argv("true")[:-3] + ["-O", "exit", "root@127.0.0.1"],
                       capture_output=True, timeout=10)

    def reset(self):
        """A hard reset (the reset button): no service is stopped, nothing
        is flushed that the guest did not write itself."""
        self._drop_ssh_master()
        self.monitor("system_reset")

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self._drop_ssh_master()
            try:
                self.monitor("quit")
                self.proc.wait(timeout=20)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait()
        if self.tmp is not None:
            shutil.rmtree(self.tmp, ignore_errors=True)
            self.tmp = None


def build_instance(force=False):
    """Run tests/instance/build-image.sh (cheap when up to date)."""
    argv = [INSTANCE_BUILD] + (["--force"] if force else [])
    subprocess.run(argv, check=True, cwd=ROOT)

if __name__ == "__main__":
    # python3 tests/lib/vm.py 'uname -a; tc -V'  (prints output and timings)
    import sys
    script = sys.argv[1] if len(sys.argv) > 1 else "uname -a\n"
    r = run_guest_ex(script + "\n", echo=sys.stdout if os.environ.get("CHAOS_VM_ECHO") else None)
    if not os.environ.get("CHAOS_VM_ECHO"):
        sys.stdout.write(r.output)
    print(r, file=sys.stderr)
    sys.exit(r.code)
