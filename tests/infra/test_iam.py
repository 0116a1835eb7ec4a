"""The experiment runner's job role allows what the library calls, and
nothing else; every permission of the job role and the hosts' role is in
docs/deploy.md with the experiment or step that needs it.

What the library calls is read from the experiments themselves: each
chaosaws function and each chaosctl option that talks to AWS maps to the
IAM actions it needs (the chaostoolkit-aws sources and controller/*.c say
which API calls they make). A new function in an experiment fails here
until the map, the role and the docs say what it needs."""

import glob
import os
import re

import yaml

from infra import BLOCK, MODULES, ROOT, Module, load

# chaostoolkit-aws (0.35) functions: the API calls each makes.
CHAOSAWS = {
    "chaosaws.ecs.probes.are_all_desired_tasks_running": {"ecs:DescribeServices"},
    "chaosaws.ecs.actions.stop_random_tasks": {
        "ecs:DescribeClusters", "ecs:DescribeServices", "ecs:ListTasks", "ecs:StopTask"},
    "chaosaws.ecs.actions.update_desired_count": {
        "ecs:DescribeClusters", "ecs:DescribeServices", "ecs:UpdateService"},
    "chaosaws.asg.probes.desired_equals_healthy": {"autoscaling:DescribeAutoScalingGroups"},
    "chaosaws.asg.probes.wait_desired_equals_healthy": {"autoscaling:DescribeAutoScalingGroups"},
    "chaosaws.asg.actions.change_subnets": {
        "autoscaling:DescribeAutoScalingGroups", "autoscaling:UpdateAutoScalingGroup"},
    "chaosaws.asg.actions.terminate_random_instances": {
        "autoscaling:DescribeAutoScalingGroups", "ec2:TerminateInstances"},
    "chaosaws.cloudwatch.probes.get_alarm_state_value": {"cloudwatch:DescribeAlarms"},
    # the library's own extension (library/python/chaoskit): a service's
    # tasks counted task by task, its alarm notification read from SQS;
    # the load generator calls no AWS API
    "chaoskit.aws.desired_tasks_are_running": {
        "ecs:DescribeServices", "ecs:ListTasks", "ecs:DescribeTasks"},
    "chaoskit.aws.running_task_count": {"ecs:ListTasks", "ecs:DescribeTasks"},
    "chaoskit.aws.wait_for_task_count": {
        "ecs:DescribeServices", "ecs:ListTasks", "ecs:DescribeTasks"},
    "chaoskit.aws.wait_for_desired_tasks": {
        "ecs:DescribeServices", "ecs:ListTasks", "ecs:DescribeTasks"},
    "chaoskit.aws.wait_for_recovery": {
        "ecs:DescribeServices", "ecs:ListTasks", "ecs:DescribeTasks"},
    "chaoskit.aws.wait_for_alarm_notification": {
        "sqs:ReceiveMessage", "sqs:DeleteMessage", "kms:Decrypt"},
    "chaoskit.aws.get_parameter": {"ssm:GetParameter", "kms:Decrypt"},
    "chaoskit.load.constant_rate": set(),
    "chaosaws.rds.probes.instance_status": {"rds:DescribeDBInstances"},
    "chaosaws.rds.actions.reboot_db_instance": {"rds:RebootDBInstance"},
}

# chaosctl options that call AWS (controller/discover.c, client.c, alarm.c).
CHAOSCTL = {
    "--cluster": {"ecs:ListContainerInstances", "ecs:DescribeContainerInstances", "ec2:DescribeInstances"},
    "--service": {"ecs:ListTasks", "ecs:DescribeTasks", "ecs:DescribeTaskDefinition"},
    "--key-ssm-parameter": {"ssm:GetParameter", "kms:Decrypt"},
    "--stop-alarm": {"cloudwatch:DescribeAlarms"},
}

# What every job needs besides its experiment: chaosctl run uploads the
# journal (SSE-KMS bucket).
RUNNER = {"s3:PutObject", "kms:GenerateDataKey"}

# What the library's next revision (issue 16) reads, granted ahead so that
# the deployed stack serves it: the published SSM values, and the SRE
# notification from its queue in ecs-service-max-capacity-alarm.
LOOKED_UP = {"ssm:GetParameter", "ssm:GetParameters", "sqs:ReceiveMessage", "sqs:DeleteMessage", "kms:Decrypt"}

# Actions without resource-level permissions: the only ones allowed on "*"
# without a condition.
NO_RESOURCE_LEVEL = {"ec2:DescribeInstances", "autoscaling:DescribeAutoScalingGroups",
                     "ecs:DiscoverPollEndpoint", "ecr:GetAuthorizationToken",
                     "ecs:DescribeTaskDefinition"}


def activities(doc):
    ssh = doc.get("steady-state-hypothesis") or {}
    for a in (ssh.get("probes") or []) + (doc.get("method") or []) + (doc.get("rollbacks") or []):
        if isinstance(a, dict) and "provider" in a:
            yield a


def library_needs():
    """IAM action -> experiments that need it."""
    needs, unknown = {}, []
    for path in sorted(glob.glob(os.path.join(ROOT, "library", "*", "*", "experiment.yaml"))):
        exp = os.path.basename(os.path.dirname(path))
        with open(path) as f:
            doc = yaml.safe_load(f)
        for a in activities(doc):
            p = a["provider"]
            actions = set()
            if p["type"] == "python":
                key = "%s.%s" % (p["module"], p["func"])
                if key not in CHAOSAWS:
                    unknown.append("%s: %s" % (exp, key))
                    continue
                actions = CHAOSAWS[key]
            elif p["type"] == "process" and os.path.basename(p["path"]) == "chaosctl":
                for opt in p.get("arguments") or []:
                    actions |= CHAOSCTL.get(str(opt), set())
            for act in actions:
                needs.setdefault(act, set()).add(exp)
    return needs, unknown


def statements(doc_body):
    out = list(doc_body.get("statement", []))
    for dyn in doc_body.get("dynamic", []):
        for label, spec in dyn.items():
            if label == "statement":
                out.extend(spec.get("content", []))
    return out


def policy(module, name):
    """Statements of data.aws_iam_policy_document.<name> in a module,
    with those of the documents it includes from the agent-key module."""
    m = Module(module)
    body = [b for t, n, b in m.data if t == "aws_iam_policy_document" and n == name][0]
    stmts = statements(body)
    for src in body.get("source_policy_documents", []):
        if "agent_key_reader_policy_json" in str(src):
            reader = [b for t, n, b in Module("agent-key").data
                      if t == "aws_iam_policy_document" and n == "reader"][0]
            stmts.extend(statements(reader))
        else:
            raise AssertionError("%s/%s includes an unknown policy document %s" % (module, name, src))
    return stmts


def actions_of(stmts):
    return {a for s in stmts for a in s["actions"]}


def test_every_call_the_library_makes_is_granted_to_the_job_role():
    needs, unknown = library_needs()
    assert not unknown, "calls with no known IAM needs (add them to CHAOSAWS, the job role and the docs): %s" % unknown
    assert len(needs) >= 12
    granted = actions_of(policy("chaos-runner", "job"))
    missing = {a: sorted(e) for a, e in needs.items() if a not in granted}
    assert not missing, "the job role lacks: %s" % missing
    assert RUNNER <= granted


def test_the_job_role_grants_nothing_the_library_does_not_need():
    needs, _ = library_needs()
    granted = actions_of(policy("chaos-runner", "job"))
    extra = granted - set(needs) - RUNNER - LOOKED_UP
    assert not extra, "granted but needed by no experiment: %s" % sorted(extra)
    assert not any("*" in a for a in granted), "wildcard actions: %s" % [a for a in granted if "*" in a]


def test_only_actions_without_resource_level_permissions_get_an_unconditioned_star():
    for module, name in (("chaos-runner", "job"), ("ecs-cluster", "hosts")):
        for s in policy(module, name):
            if "*" in s["resources"] and not s.get("condition"):
                assert set(s["actions"]) <= NO_RESOURCE_LEVEL, "%s/%s: %s on *" % (module, name, s["actions"])


def docs_table(section):
    """Rows `| action | ... |` of a docs/deploy.md section."""
    with open(os.path.join(ROOT, "docs", "deploy.md")) as f:
        text = f.read()
    m = re.search(r"^### %s\n(.*?)(?=^#)" % re.escape(section), text, re.S | re.M)
    assert m, "docs/deploy.md has no section '### %s'" % section
    rows = {}
    for line in m.group(1).splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 3 and cells[0].startswith("`"):
            for act in re.findall(r"`([a-z0-9-]+:[A-Za-z*]+)`", cells[0]):
                rows[act] = cells[-1]
    return rows


def test_docs_list_every_job_role_permission_with_who_needs_it():
    needs, _ = library_needs()
    rows = docs_table("Job role (experiments)")
    granted = actions_of(policy("chaos-runner", "job"))
    assert set(rows) == granted, "docs/deploy.md and the job role differ: docs only %s, role only %s" % (
        sorted(set(rows) - granted), sorted(granted - set(rows)))
    for act, exps in needs.items():
        if act in CHAOSAWS_ONLY_BY_NAME:
            continue
        for e in exps:
            assert e in rows[act] or "every" in rows[act], \
                "docs/deploy.md: %s does not name %s, which needs it" % (act, e)


# Actions the docs may describe by the step rather than listing every
# experiment (chaosctl discovery and the key are used by most of them).
CHAOSAWS_ONLY_BY_NAME = {"ecs:ListContainerInstances", "ecs:DescribeContainerInstances", "ec2:DescribeInstances",
                         "ssm:GetParameter", "kms:Decrypt", "ecs:DescribeServices",
                         "cloudwatch:DescribeAlarms", "ecs:ListTasks", "ecs:DescribeTasks",
                         "ecs:DescribeTaskDefinition"}


def test_docs_list_every_host_role_permission():
    rows = docs_table("Host role (ECS container instances)")
    granted = actions_of(policy("ecs-cluster", "hosts"))
    assert set(rows) == granted, "docs/deploy.md and the host role differ: docs only %s, role only %s" % (
        sorted(set(rows) - granted), sorted(granted - set(rows)))
