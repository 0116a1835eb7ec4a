"""The DEB in a booted Debian 12 (systemd-nspawn --boot): installed with
apt, started by systemd with the hardened unit, driven from the host with
the packaged chaosctl. Proves readiness (Type=notify), the signed API, and
that a burn-cpu fault is reverted on stop, after kill -9 of the agent
(ExecStopPost), on a reinstall (the upgrade path) and on apt remove."""

import os
import shutil
import time

import pytest

import pkgtest

UNIT = "chaos-agent.service"


@pytest.fixture(scope="module")
def booted(machine, keyfile, ctl_bin):
    port = pkgtest.free_port()
    deb = pkgtest.package("chaos-agent", "amd64", "deb")
    shutil.copy(deb, machine.path("/root/chaos-agent.deb"))
    return {"m": machine, "port": port, "url": "http://127.0.0.1:%d" % port,
            "ctl": pkgtest.Ctl(ctl_bin, "http://127.0.0.1:%d" % port, keyfile),
            "key": keyfile}


def unit_prop(m, prop):
    return m.run(["systemctl", "show", "-p", prop, "--value", UNIT]).stdout.strip()


def burners(m):
    r = m.run(["pgrep", "-x", "chaos-burn"], check=False)
    return [int(p) for p in r.stdout.split()]


def state_records(m):
    path = m.path("/var/lib/chaos-agent/state.json")
    return open(path).read().count('"id"') if os.path.exists(path) else 0


def wait_active(m, timeout=30):
    pkgtest.wait_for(lambda: unit_prop(m, "ActiveState") == "active", timeout,
                     desc="chaos-agent to be active")


def test_install_without_a_key_enables_but_does_not_start(booted):
    m = booted["m"]
    r = m.run(["apt-get", "install", "-y", "-q", "/root/chaos-agent.deb"],
              env={"DEBIAN_FRONTEND": "noninteractive"}, timeout=300)
    assert "no key at /etc/chaos-agent/agent.key" in r.stdout + r.stderr
    assert m.run(["systemctl", "is-enabled", UNIT], check=False).stdout.strip() == "enabled"
    assert unit_prop(m, "ActiveState") == "inactive"
    assert m.run(["getent", "passwd", "chaos-agent"]).stdout.startswith("chaos-agent:")
    assert os.path.exists(m.path("/usr/share/man/man8/chaos-agent.8.gz"))
    # The installed unit, with the system's own units around it.
    r = m.run(["systemd-analyze", "verify", "--man=no", UNIT], check=False)
    assert r.returncode == 0 and "chaos-agent" not in r.stdout + r.stderr, r.stdout + r.stderr


def test_start_is_ready_only_when_the_api_answers(booted):
    m = booted["m"]
    shutil.copy(booted["key"], m.path("/etc/chaos-agent/agent.key"))
    os.chmod(m.path("/etc/chaos-agent/agent.key"), 0o600)
    conf = m.path("/etc/chaos-agent/agent.conf")
    text = open(conf).read().replace("listen = 127.0.0.1:8421",
                                     "listen = 127.0.0.1:%d" % booted["port"])
    open(conf, "w").write(text)
    t0 = time.monotonic()
    r = m.run(["systemctl", "start", UNIT], check=False)  # returns once READY=1 arrived
    ready = time.monotonic() - t0
    assert r.returncode == 0, r.stderr + m.journal()[-3000:]
    print("systemctl start -> ready: %.2f s" % ready)
    assert unit_prop(m, "ActiveState") == "active"
    assert unit_prop(m, "Type") == "notify"
    st = os.stat(m.path("/var/lib/chaos-agent"))
    assert st.st_mode & 0o777 == 0o700
    assert "serving on" in unit_prop(m, "StatusText")
    # Ready means the API answers: a signed request succeeds at once.
    out = booted["ctl"]("info")
    assert out["results"][0]["ok"], out
    # The HTTP worker runs as the package's user, not root.
    users = m.run(["ps", "-o", "user=", "--ppid", unit_prop(m, "MainPID")]).stdout.split()
    assert "chaos-agent" in users, users


def test_signed_request_from_the_host_and_a_bad_key_refused(booted, workdir, ctl_bin):
    out = booted["ctl"]("faults")
    assert out["results"][0]["ok"], out
    other = os.path.join(workdir, "other.key")
    os.system("%s keygen --out %s >/dev/null 2>&1" % (ctl_bin, other))
    bad = pkgtest.Ctl(ctl_bin, booted["url"], other)("faults", check=False)
    assert not bad["results"][0]["ok"], bad


def test_burn_is_reverted_on_systemctl_stop(booted):
    m, ctl = booted["m"], booted["ctl"]
    fid, pids = ctl.burn()
    assert set(burners(m)) == set(pids) and state_records(m) == 1
    m.run(["systemctl", "stop", UNIT])
    assert burners(m) == [], "burners left after stop: %s" % burners(m)
    assert state_records(m) == 0
    assert '"action":"fault_revert_all"' in m.journal().replace(" ", "") or \
        "fault_end" in m.journal()


def test_burn_is_reverted_after_kill_9_and_the_agent_restarts(booted):
    m, ctl = booted["m"], booted["ctl"]
    m.run(["systemctl", "start", UNIT])
    fid, pids = ctl.burn()
    main = unit_prop(m, "MainPID")
    m.run(["systemctl", "kill", "--kill-whom=main", "--signal=KILL", UNIT])
    pkgtest.wait_for(lambda: unit_prop(m, "MainPID") not in ("0", main) and
                     unit_prop(m, "ActiveState") == "active", 30,
                     desc="the agent to restart")
    assert not set(burners(m)) & set(pids), "the killed agent's burners live on"
    # ExecStopPost ran --revert-all over the record the dead agent left.
    assert "reverted 1 fault(s) listed in the state file" in m.journal()
    assert int(unit_prop(m, "NRestarts")) >= 1
    out = ctl("faults", "--state", "active")
    assert out["results"][0]["ok"] and out["results"][0]["body"]["faults"] == [], out


def test_kill_process_reaches_another_users_process(booted):
    # ProtectProc=ptraceable must still let the root parent see and signal
    # every process (CAP_KILL, CAP_SYS_PTRACE).
    m, ctl = booted["m"], booted["ctl"]
    m.run(["systemd-run", "--unit", "victim", "--uid", "nobody", "sleep", "300"])
    pid = m.run(["systemctl", "show", "-p", "MainPID", "--value", "victim"]).stdout.strip()
    assert pid != "0"
    out = ctl("inject", "kill-process", "--pid", pid)
    assert out["results"][0]["ok"], out
    pkgtest.wait_for(lambda: m.run(["systemctl", "is-active", "victim"], check=False)
                     .stdout.strip() != "active", 10, desc="the victim to die")


def test_reinstall_reverts_first_then_starts_again(booted):
    # dpkg runs 'prerm upgrade' and 'postinst configure': the upgrade path.
    m, ctl = booted["m"], booted["ctl"]
    wait_active(m)
    fid, pids = ctl.burn()
    m.run(["dpkg", "-i", "/root/chaos-agent.deb"], timeout=300)
    assert not set(burners(m)) & set(pids)
    wait_active(m)
    assert state_records(m) == 0
    # The configuration the administrator changed was kept.
    assert "127.0.0.1:%d" % booted["port"] in open(m.path("/etc/chaos-agent/agent.conf")).read()


def test_apt_remove_reverts_an_active_fault(booted):
    m, ctl = booted["m"], booted["ctl"]
    wait_active(m)
    fid, pids = ctl.burn()
    assert set(burners(m)) == set(pids)
    m.run(["apt-get", "remove", "-y", "-q", "chaos-agent"],
          env={"DEBIAN_FRONTEND": "noninteractive"}, timeout=300)
    assert burners(m) == []
    assert not os.path.exists(m.path("/usr/sbin/chaos-agent"))
    assert state_records(m) == 0
    assert unit_prop(m, "ActiveState") in ("inactive", "failed")
