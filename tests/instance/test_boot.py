"""The container instance itself: what an ECS-optimized Amazon Linux 2023
host has that matters to the agent (cgroup v2 only, Docker on the systemd
cgroup driver, sch_netem), and the agent installed from its DEB, running
under its packaged unit."""
import json

import workload as W
from conftest import body, ctl


def test_boot_to_ready(inst, record):
    # The session fixture booted the VM and waited for sshd, Docker, the
    # agent's unit and its health endpoint. A number to report, not a bound
    # to assert: emulation on a busy machine can take any time.
    record("boot_to_ready_s", round(inst.boots[0], 1))
    print("boot to ready: %.1f s" % inst.boots[0])
    print(inst.ssh("systemd-analyze; systemd-analyze critical-chain chaos-agent.service"
                   " | tail -n +3").stdout)


def test_cgroup_v2_only(inst):
    assert inst.ssh("stat -fc %T /sys/fs/cgroup").stdout.strip() == "cgroup2fs"
    mounts = inst.ssh("cat /proc/mounts").stdout
    assert not [m for m in mounts.split("\n") if m.split(" ")[2:3] == ["cgroup"]], mounts
    info = json.loads(inst.ssh("docker info --format '{{json .}}'").stdout)
    assert info["CgroupVersion"] == "2", info["CgroupVersion"]
    assert info["CgroupDriver"] == "systemd", info["CgroupDriver"]


def test_agent_is_the_package_under_its_unit(inst):
    st = inst.ssh("dpkg-query -W -f '${Status} ${Version}' chaos-agent").stdout
    assert st.startswith("install ok installed"), st
    show = dict(kv.split("=", 1) for kv in inst.ssh(
        "systemctl show -p MainPID -p ActiveState -p NRestarts -p FragmentPath "
        "chaos-agent").stdout.split())
    assert show["ActiveState"] == "active", show
    assert show["FragmentPath"] == "/lib/systemd/system/chaos-agent.service", show
    pid = int(show["MainPID"])
    assert inst.ssh("readlink /proc/%d/exe" % pid).stdout.strip() == "/usr/sbin/chaos-agent"
    status = inst.ssh("cat /proc/%d/status" % pid).stdout
    fields = dict(line.split(":", 1) for line in status.split("\n") if ":" in line)
    # The unit's bounding set, narrowed by the agent to the table of
    # docs/security.md; NoNewPrivileges from the unit.
    assert int(fields["CapBnd"].strip(), 16) & ~0x2811e0 == 0, fields["CapBnd"]
    assert fields["NoNewPrivs"].strip() == "1"
    # It listens where the configuration says, not on a wildcard.
    assert "10.0.2.15:8421" in inst.ssh("ss -Htln").stdout


def test_netem_and_every_fault_available(inst):
    assert inst.ssh("test -d /sys/module/sch_netem", check=False).returncode == 0
    info = body(inst, "info")
    caps = {c["type"]: c for c in info["capabilities"]}
    missing = {t: c.get("reason") for t, c in caps.items() if not c["available"]}
    assert missing == {}, missing
    assert info["docker"]["available"] is True, info["docker"]


def test_targets_see_the_tasks_as_ecs_made_them(inst, tasks):
    _, doc = ctl(inst, "targets")
    by_name = {t["name"]: t for t in doc["results"][0]["body"]["targets"]}
    web, pause, api = by_name[W.WEB_A], by_name[W.PAUSE_A], by_name[W.API_B]
    assert web["ecs"]["task_arn"] == W.ARN_PREFIX + W.TASK_A
    assert api["ecs"]["task_arn"] == W.ARN_PREFIX + W.TASK_B
    assert web["netns_owner"] == pause["id"], (web, pause)
    # cgroup v2 paths in the task's slice, and the limit that binds: the
    # task's (on its slice) for A, the container's own for B.
    assert set(web["cgroup"]) == {"unified"}, web["cgroup"]
    assert web["cgroup"]["unified"].startswith(
        "/ecstasks.slice/ecstasks-%s.slice/docker-" % W.TASK_A), web["cgroup"]
    assert web["cpu_limit"] == 1, web
    assert api["cpu_limit"] == 1, api
