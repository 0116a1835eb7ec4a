"""Traffic probes of the instance tests, run inside the VM by the guest's
python3 (copied there by the harness), in a task's network namespace with
`nsenter --net=/proc/PID/ns/net python3 probe.py ...`. Stdlib only; every
command prints one JSON object.

  serve PORT...                 TCP servers (until killed): each connection
                                sends an 8-byte big-endian length, then that
                                many bytes; the server answers b"ok" once it
                                has them all (a connect-and-close is fine too)
  connect HOST PORT TIMEOUT     can a TCP connection be made, and how long it took
  send HOST PORT BYTES          seconds from connect until the server confirmed
                                BYTES, and the payload rate in kbit/s
  cpu SECONDS CGROUP...         the CPU each cgroup (a directory under
                                /sys/fs/cgroup) used over SECONDS, in CPUs
"""
import json
import socket
import socketserver
import struct
import sys
import time


class Sink(socketserver.BaseRequestHandler):
    def handle(self):
        head = b""
        while len(head) < 8:
            chunk = self.request.recv(8 - len(head))
            if not chunk:
                return
            head += chunk
        left = struct.unpack(">Q", head)[0]
        while left > 0:
            chunk = self.request.recv(min(left, 65536))
            if not chunk:
                return
            left -= len(chunk)
        self.request.sendall(b"ok")


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


def serve(ports):
    import threading
    servers = [Server(("0.0.0.0", int(p)), Sink) for p in ports]
    for s in servers[1:]:
        threading.Thread(target=s.serve_forever, daemon=True).start()
    print(json.dumps({"serving": [int(p) for p in ports]}), flush=True)
    servers[0].serve_forever()


def connect(host, port, timeout):
    t0 = time.monotonic()
    try:
        with socket.create_connection((host, int(port)), timeout=float(timeout)):
            pass
        ok, err = True, None
    except OSError as e:
        ok, err = False, str(e)
    return {"ok": ok, "seconds": time.monotonic() - t0, "error": err}


def send(host, port, nbytes):
    nbytes = int(nbytes)
    block = b"\0" * 65536
    t0 = time.monotonic()
    with socket.create_connection((host, int(port)), timeout=60) as s:
        s.sendall(struct.pack(">Q", nbytes))
        left = nbytes
        while left > 0:
            n = min(left, len(block))
            s.sendall(block[:n])
            left -= n
        answer = s.recv(2)
    seconds = time.monotonic() - t0
    if answer != b"ok":
        raise SystemExit("the server did not confirm the bytes: %r" % answer)
    return {"bytes": nbytes, "seconds": seconds, "kbit_s": nbytes * 8 / 1000 / seconds}


def usage_usec(cgroup):
    with open("/sys/fs/cgroup%s/cpu.stat" % cgroup) as f:
        for line in f:
            k, v = line.split()
            if k == "usage_usec":
                return int(v)
    raise SystemExit("no usage_usec in %s/cpu.stat" % cgroup)


def cpu(seconds, cgroups):
    u0 = [usage_usec(c) for c in cgroups]
    t0 = time.monotonic()
    time.sleep(float(seconds))
    u1 = [usage_usec(c) for c in cgroups]
    wall = time.monotonic() - t0
    return {"seconds": wall,
            "cpus": {c: (b - a) / 1e6 / wall for c, a, b in zip(cgroups, u0, u1)}}


def main(argv):
    cmd, args = argv[1], argv[2:]
    if cmd == "serve":
        serve(args)
    elif cmd == "connect":
        print(json.dumps(connect(*args)))
    elif cmd == "send":
        print(json.dumps(send(*args)))
    elif cmd == "cpu":
        print(json.dumps(cpu(args[0], args[1:])))
    else:
        raise SystemExit("probe.py: unknown command %r" % cmd)


if __name__ == "__main__":
    main(sys.argv)
