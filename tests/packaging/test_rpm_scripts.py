"""The RPM's scriptlets under a real systemd: Debian 12 booted with
systemd-nspawn, with rpm installed (its own database; --nodeps, since
Debian's packages are not in it). Amazon Linux itself is not available
here; this runs the same %pre/%post/%preun/%posttrans code with the same
systemctl. Proves that an upgrade and a removal revert an active fault
first, and that the upgrade starts the agent again."""

import os
import shutil

import pytest

import pkgtest
from test_boot import burners, state_records, unit_prop, wait_active

UNIT = "chaos-agent.service"


@pytest.fixture(scope="module")
def rpmhost(machine, keyfile, ctl_bin):
    port = pkgtest.free_port()
    shutil.copy(pkgtest.package("chaos-agent", "amd64", "rpm"), machine.path("/root/agent.rpm"))
    return {"m": machine, "port": port,
            "ctl": pkgtest.Ctl(ctl_bin, "http://127.0.0.1:%d" % port, keyfile), "key": keyfile}


def rpm(m, *args):
    return m.run(["rpm", "--nodeps"] + list(args), timeout=300)


def test_install_creates_the_user_and_the_unit_starts(rpmhost):
    m = rpmhost["m"]
    rpm(m, "-i", "/root/agent.rpm")
    assert m.run(["getent", "passwd", "chaos-agent"]).stdout.startswith("chaos-agent:")
    assert os.path.exists(m.path("/usr/lib/systemd/system/chaos-agent.service"))
    st = os.stat(m.path("/var/lib/chaos-agent"))
    assert st.st_mode & 0o777 == 0o700
    shutil.copy(rpmhost["key"], m.path("/etc/chaos-agent/agent.key"))
    os.chmod(m.path("/etc/chaos-agent/agent.key"), 0o600)
    conf = m.path("/etc/chaos-agent/agent.conf")
    text = open(conf).read().replace("listen = 127.0.0.1:8421",
                                     "listen = 127.0.0.1:%d" % rpmhost["port"])
    with open(conf, "w") as f:
        f.write(text)
    m.run(["systemctl", "start", UNIT])
    assert unit_prop(m, "ActiveState") == "active"
    assert "127.0.0.1:%d" % rpmhost["port"] in unit_prop(m, "StatusText")


def test_upgrade_reverts_first_and_starts_again(rpmhost):
    m, ctl = rpmhost["m"], rpmhost["ctl"]
    fid, pids = ctl.burn()
    assert set(burners(m)) == set(pids)
    rpm(m, "-U", "--replacepkgs", "/root/agent.rpm")
    assert not set(burners(m)) & set(pids)
    assert state_records(m) == 0
    wait_active(m)
    assert not os.path.exists(m.path("/run/chaos-agent.restart-after-upgrade"))
    # %config(noreplace): the edited configuration stays.
    assert "127.0.0.1:%d" % rpmhost["port"] in open(m.path("/etc/chaos-agent/agent.conf")).read()


def test_erase_reverts_an_active_fault(rpmhost):
    m, ctl = rpmhost["m"], rpmhost["ctl"]
    fid, pids = ctl.burn()
    rpm(m, "-e", "chaos-agent")
    assert burners(m) == []
    assert state_records(m) == 0
    assert not os.path.exists(m.path("/usr/sbin/chaos-agent"))
    assert unit_prop(m, "ActiveState") in ("inactive", "failed")
