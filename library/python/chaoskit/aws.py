"""AWS look-ups of the library: values the deployed stack publishes, ECS
task counts and recovery times, and the SRE notifications of an alarm.

Clients come from chaostoolkit-aws (aws_region or AWS_REGION, the usual
credentials; AWS_ENDPOINT_URL points them at the local sandbox's moto).
"""

import datetime
import json
import time

from chaosaws import aws_client
from chaoslib.exceptions import ActivityFailed

from chaoskit import unresolved

__all__ = ["get_parameter", "desired_count", "utc_now", "running_task_count",
           "running_task_arns", "desired_tasks_are_running", "wait_for_desired_tasks",
           "wait_for_task_count", "wait_for_recovery", "asg_subnets",
           "wait_for_alarm_notification"]

POLL = 2.0


def get_parameter(name: str, as_type: str = "str", configuration=None):
    """The value of SSM parameter `name`, e.g. /live/app/comments/web_url:
    for the configuration's dynamic values (`type: probe`), so that a run
    reads the names and URLs the infrastructure published. `as_type` "int"
    converts it (a task count)."""
    unresolved(name=name)
    ssm = aws_client("ssm", configuration)
    try:
        value = ssm.get_parameter(Name=name)["Parameter"]["Value"]
    except ssm.exceptions.ParameterNotFound:
        raise ActivityFailed("SSM parameter %s does not exist" % name)
    return int(value) if as_type == "int" else value


def desired_count(cluster: str, service: str, configuration=None) -> int:
    """The service's desired count now (read before a run changes it)."""
    unresolved(cluster=cluster, service=service)
    return _service(aws_client("ecs", configuration), cluster, service)["desiredCount"]


def _service(ecs, cluster, service):
    found = ecs.describe_services(cluster=cluster, services=[service])["services"]
    if len(found) != 1:
        raise ActivityFailed("service %s not found in cluster %s" % (service, cluster))
    return found[0]


def running_task_count(cluster: str, service: str, configuration=None) -> int:
    """How many of the service's tasks ECS reports RUNNING, counted task by
    task (ListTasks, DescribeTasks) rather than taken from the service's
    runningCount: the count a scheduler is judged by."""
    return len(running_task_arns(cluster, service, configuration))


def running_task_arns(cluster: str, service: str, configuration=None) -> list:
    """The ARNs of the service's tasks that are RUNNING and meant to run."""
    unresolved(cluster=cluster, service=service)
    ecs = aws_client("ecs", configuration)
    arns, token = [], None
    while True:
        kw = {"cluster": cluster, "desiredStatus": "RUNNING"}
        if token:
            kw["nextToken"] = token
        page = ecs.list_tasks(**kw)
        arns += page.get("taskArns", [])
        token = page.get("nextToken")
        if not token:
            break
    out = []
    for i in range(0, len(arns), 100):
        for t in ecs.describe_tasks(cluster=cluster, tasks=arns[i:i + 100])["tasks"]:
            # the service's own (ListTasks' serviceName filter is not
            # honoured everywhere; the group always says it)
            if t.get("group") == "service:" + service and t.get("lastStatus") == "RUNNING" \
                    and t.get("desiredStatus") == "RUNNING":
                out.append(t["taskArn"])
    return sorted(out)


def desired_tasks_are_running(cluster: str, service: str, configuration=None) -> bool:
    """True when as many tasks run as the service wants."""
    ecs = aws_client("ecs", configuration)
    want = _service(ecs, cluster, service)["desiredCount"]
    return running_task_count(cluster, service, configuration) == want


def wait_for_task_count(cluster: str, service: str, count: int, timeout: float = 300,
                        configuration=None) -> dict:
    """Wait until the service wants `count` tasks and runs them all.
    Returns {"seconds": time it took or null, "desired", "running"}: the
    recovery (or scaling) time, kept in the journal; null when `timeout`
    passed first, which the hypothesis that follows then shows."""
    return _wait(cluster, service, int(count), float(timeout), configuration)


def wait_for_desired_tasks(cluster: str, service: str, timeout: float = 300,
                           configuration=None) -> dict:
    """Wait until every task the service wants runs; as wait_for_task_count."""
    return _wait(cluster, service, None, float(timeout), configuration)


def _wait(cluster, service, count, timeout, configuration):
    ecs = aws_client("ecs", configuration)
    t0 = time.monotonic()
    while True:
        desired = _service(ecs, cluster, service)["desiredCount"]
        running = running_task_count(cluster, service, configuration)
        if running == desired and (count is None or desired == count):
            return {"seconds": round(time.monotonic() - t0, 1), "desired": desired,
                    "running": running}
        if time.monotonic() - t0 >= timeout:
            return {"seconds": None, "desired": desired, "running": running}
        time.sleep(POLL)


def wait_for_recovery(cluster: str, service: str, timeout: float = 600, grace: float = 120,
                      configuration=None) -> dict:
    """The recovery time after a fault that may cost the service tasks
    (terminated hosts, stopped tasks, a killed engine). Right after such a
    fault ECS may still call a lost task RUNNING for a while, so this waits
    for the loss to show (a task that ran when it started stops, or fewer
    tasks run than desired) for up to `grace` seconds, then until every
    desired task runs again, at most `timeout` seconds in all. Returns
    {"seconds": time from the start until the service was whole again (0
    when it lost nothing within `grace`; null when `timeout` passed first),
    "lost": tasks that stopped, "desired", "running"}."""
    ecs = aws_client("ecs", configuration)
    t0 = time.monotonic()
    initial = set(running_task_arns(cluster, service, configuration))
    lost, short = set(), False
    while True:
        desired = _service(ecs, cluster, service)["desiredCount"]
        current = set(running_task_arns(cluster, service, configuration))
        lost |= initial - current
        short = short or len(current) < desired
        elapsed = time.monotonic() - t0
        hurt = bool(lost) or short
        if len(current) == desired and (hurt or elapsed >= grace):
            return {"seconds": round(elapsed, 1) if hurt else 0.0, "lost": len(lost),
                    "desired": desired, "running": len(current)}
        if elapsed >= float(timeout):
            return {"seconds": None, "lost": len(lost), "desired": desired,
                    "running": len(current)}
        time.sleep(POLL)


def asg_subnets(asg_name: str, exclude_az: str = None, configuration=None) -> list:
    """The subnets of Auto Scaling group `asg_name`, less those in
    `exclude_az`: read before an AZ failure (to restore) and for it."""
    unresolved(asg_name=asg_name)
    asg = aws_client("autoscaling", configuration)
    groups = asg.describe_auto_scaling_groups(AutoScalingGroupNames=[asg_name])
    if not groups["AutoScalingGroups"]:
        raise ActivityFailed("Auto Scaling group %s not found" % asg_name)
    ids = [s for s in groups["AutoScalingGroups"][0]["VPCZoneIdentifier"].split(",") if s]
    if not exclude_az:
        return ids
    ec2 = aws_client("ec2", configuration)
    subnets = ec2.describe_subnets(SubnetIds=ids)["Subnets"]
    keep = [s["SubnetId"] for s in subnets if s["AvailabilityZone"] != exclude_az]
    if not keep:
        raise ActivityFailed("every subnet of %s is in %s" % (asg_name, exclude_az))
    return sorted(keep)


def utc_now() -> str:
    """The time now, UTC, ISO 8601: a run's start, read with the
    configuration, that later probes compare with."""
    return datetime.datetime.now(datetime.timezone.utc).isoformat()


def _changed_at(alarm):
    """An alarm message's StateChangeTime ("2024-01-01T10:00:00.000+0000")."""
    t = alarm.get("StateChangeTime", "")
    for fmt in ("%Y-%m-%dT%H:%M:%S.%f%z", "%Y-%m-%dT%H:%M:%S%z"):
        try:
            return datetime.datetime.strptime(t, fmt)
        except ValueError:
            pass
    return None


def wait_for_alarm_notification(queue_url: str, alarm_name: str, timeout: float = 300,
                                since: str = None, configuration=None) -> dict:
    """Wait for CloudWatch's notification of `alarm_name` on SQS queue
    `queue_url` (subscribed to the SRE topic) and return the alarm's
    message ({"AlarmName", "NewStateValue", "NewStateReason", ...}),
    deleting it from the queue. With `since` (ISO 8601), a notification
    of an older state change (an earlier run's) does not count. Other
    messages are left. Returns {"NewStateValue": "NONE"} when none came
    within `timeout`."""
    unresolved(queue_url=queue_url, alarm_name=alarm_name)
    after = datetime.datetime.fromisoformat(since) if since else None
    sqs = aws_client("sqs", configuration)
    deadline = time.monotonic() + float(timeout)
    while time.monotonic() < deadline:
        wait = int(max(0, min(20, deadline - time.monotonic())))
        msgs = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10,
                                   WaitTimeSeconds=wait, VisibilityTimeout=0
                                   ).get("Messages", [])
        for m in msgs:
            try:
                body = json.loads(m["Body"])
                # SNS's envelope (raw delivery off), or the message itself
                alarm = json.loads(body["Message"]) if "Message" in body else body
            except (ValueError, KeyError, TypeError):
                continue
            if isinstance(alarm, dict) and alarm.get("AlarmName") == alarm_name:
                changed = _changed_at(alarm)
                if after is not None and (changed is None or changed < after):
                    continue
                sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=m["ReceiptHandle"])
                return alarm
        time.sleep(0.5)
    return {"AlarmName": alarm_name, "NewStateValue": "NONE",
            "NewStateReason": "no notification within %g s" % float(timeout)}
