"""The ECS-like tasks of the instance VM, defined once: build-image.sh
renders the first-boot script that creates them from this file
(`python3 workload.py`), and the tests import the names and ids.

  A  an awsvpc task: a pause container owning the network namespace and an
     app container ("web") joined to it, both in the task's systemd slice
     ecstasks-<id>.slice, which holds the task's 1-CPU limit, as the ECS
     agent lays a task out on a cgroup v2 host
  B  a bridge-mode task: one container ("api") with its own namespace on
     docker0 and a 1-CPU limit of its own (docker run --cpus 1)

The peer of the traffic tests is the instance itself: probe.py serves TCP
on 7000, 7001 and 7100 there (chaos-vm-probe.service), which the tasks
reach at docker0's address.

Every container has the restart policy "always": after a kill, a Docker
restart or a reset, Docker brings the tasks back by itself, and no test has
to create containers (each docker CLI start costs tens of seconds under
emulation).
"""
import shlex

IMAGE = "chaos/busybox:vm"
CLUSTER = "chaos-vm"
ARN_PREFIX = "arn:aws:ecs:us-east-1:111122223333:task/" + CLUSTER + "/"
TASK_A = "0a1b2c3d4e5f60718293a4b5c6d7e8f9"
TASK_B = "f9e8d7c6b5a4938271605f4e3d2c1b0a"
PAUSE_A = "ecs-web-1-internalecspause-a1"
WEB_A = "ecs-web-1-web-a1"
API_B = "ecs-api-1-api-b1"
CONTAINERS = (PAUSE_A, WEB_A, API_B)
PEER_IP = "172.17.0.1"          # docker0: the instance, as the tasks see it
PEER_PORTS = (7000, 7001, 7100)
PROBE = "/usr/local/lib/chaos-vm/probe.py"
ECS_PAUSE = "~internal~ecs~pause"


def _labels(task, family, container):
    out = []
    for k, v in (("cluster", CLUSTER), ("task-arn", ARN_PREFIX + task),
                 ("task-definition-family", family),
                 ("task-definition-version", "1"), ("container-name", container)):
        out += ["--label", "com.amazonaws.ecs.%s=%s" % (k, v)]
    return out


def _run(name, *args):
    argv = ["docker", "run", "-d", "--restart", "always", "--name", name, *args, IMAGE,
            "sleep", "1000000"]
    return " ".join(shlex.quote(a) for a in argv) + " >/dev/null"


def provision_script():
    """The guest's first-boot script: import the image, make the tasks."""
    slice_a = "ecstasks-%s.slice" % TASK_A
    return "\n".join([
        "#!/bin/sh",
        "# Made by tests/instance/workload.py: the test tasks of the instance VM.",
        "set -eu",
        "docker import /var/lib/chaos-vm/busybox.tar %s >/dev/null" % IMAGE,
        # The task's CPU limit lives on its slice, as the ECS agent sets it.
        "systemctl set-property %s CPUQuota=100%%" % slice_a,
        _run(PAUSE_A, "--cgroup-parent", slice_a, *_labels(TASK_A, "web", ECS_PAUSE)),
        _run(WEB_A, "--network", "container:" + PAUSE_A, "--cgroup-parent", slice_a,
             *_labels(TASK_A, "web", "web")),
        _run(API_B, "--cpus", "1", "--cgroup-parent", "ecstasks-%s.slice" % TASK_B,
             *_labels(TASK_B, "api", "api")),
        "",
    ])


if __name__ == "__main__":
    print(provision_script(), end="")
