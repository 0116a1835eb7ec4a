#!/usr/bin/python3
"""A stand-in for Chaos Toolkit's `chaos` program (chaosctl run --chaos PATH).

Records how it was started, writes a journal and a log where it was told
to, then ends as the test asked. Driven by environment variables:

  FAKE_CHAOS_RECORD   file to write {"argv", "cwd", "pid", "env"} to (JSON)
  FAKE_CHAOS_JOURNAL  JSON text of the journal to write (default: a small
                      completed journal of "Sample: a process fault")
  FAKE_CHAOS_RC       exit status (default 0)
  FAKE_CHAOS_SIGNAL   kill itself with this signal number instead of exiting
  FAKE_CHAOS_SLEEP    seconds to sleep before ending; a SIGINT/SIGTERM
                      received meanwhile is noted in FAKE_CHAOS_RECORD + ".signal"
                      and ends it with status 1, as chaos does when interrupted,
                      after FAKE_CHAOS_GRACE seconds (then FAKE_CHAOS_RECORD + ".ended")
  FAKE_CHAOS_NO_JOURNAL  set: write no journal at all
"""
import json
import os
import signal
import sys
import time

DEFAULT_JOURNAL = {
    "chaoslib-version": "fake",
    "platform": "fake",
    "node": "fake",
    "experiment": {"version": "1.0.0", "title": "Sample: a process fault"},
    "start": "2023-11-22T10:15:00.123456+00:00",
    "end": "2023-11-22T10:15:01.000000+00:00",
    "duration": 0.9,
    "status": "completed",
    "deviated": False,
    "steady_states": {"before": None, "after": None, "during": []},
    "run": [],
    "rollbacks": [],
}


def opt(argv, name):
    for i, a in enumerate(argv[:-1]):
        if a == name:
            return argv[i + 1]
    return None


def main():
    argv = sys.argv[1:]
    got = []

    def on_signal(signum, _frame):
        got.append(signum)

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)

    record = os.environ.get("FAKE_CHAOS_RECORD")
    if record:
        tmp = record + ".tmp"
        with open(tmp, "w") as f:
            json.dump({"argv": argv, "cwd": os.getcwd(), "pid": os.getpid(),
                       "env": dict(os.environ)}, f)
        os.rename(tmp, record)  # complete when it appears

    log = opt(argv, "--log-file")
    if log:
        with open(log, "a") as f:
            f.write("[fake chaos] started with %r\n" % (argv,))

    journal_path = opt(argv, "--journal-path")
    if journal_path and not os.environ.get("FAKE_CHAOS_NO_JOURNAL"):
        text = os.environ.get("FAKE_CHAOS_JOURNAL")
        journal = json.loads(text) if text else DEFAULT_JOURNAL
        with open(journal_path, "w") as f:
            json.dump(journal, f, indent=2)

    deadline = time.monotonic() + float(os.environ.get("FAKE_CHAOS_SLEEP", "0"))
    while not got and time.monotonic() < deadline:
        time.sleep(0.05)
    if got:
        if record:
            with open(record + ".signal", "w") as f:
                f.write("%d\n" % got[0])
        # like chaos playing its rollbacks: take a while, then say so
        time.sleep(float(os.environ.get("FAKE_CHAOS_GRACE", "0")))
        if record:
            with open(record + ".ended", "w") as f:
                f.write("ended\n")
        return 1

    sig = os.environ.get("FAKE_CHAOS_SIGNAL")
    if sig:
        if int(sig) in (signal.SIGINT, signal.SIGTERM):
            signal.signal(int(sig), signal.SIG_DFL)
        os.kill(os.getpid(), int(sig))
        time.sleep(5)
    return int(os.environ.get("FAKE_CHAOS_RC", "0"))


if __name__ == "__main__":
    sys.exit(main())
