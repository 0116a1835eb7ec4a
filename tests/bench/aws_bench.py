"""make bench, AWS part: chaosctl run's overhead over a bare chaos run of
the same experiment, and discovery time for a 100-instance cluster held
by moto. Needs the project virtualenv (scripts/setup-venv.sh)."""
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))
from moto import MotoServer  # noqa: E402

CTL = os.path.join(ROOT, "bin", "chaosctl")
CHAOS = os.path.join(ROOT, ".venv", "bin", "chaos")
SAMPLE = os.path.join(ROOT, "tests", "e2e", "experiments", "sample")


def timed(argv, env=None, cwd=None):
    t0 = time.perf_counter()
    p = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True)
    dt = (time.perf_counter() - t0) * 1000
    if p.returncode != 0:
        raise RuntimeError("%s: %s" % (argv, p.stderr[-2000:]))
    return dt


def bench_run(n):
    tmp = tempfile.mkdtemp(prefix="chaos-bench-run.")
    env = dict(os.environ, SAMPLE_OUT=tmp)
    conf = os.path.join(tmp, "experiment.conf")
    with open(conf, "w") as f:
        f.write("[DEFAULT]\nexperiment_path = %s/experiment.yaml\n" % SAMPLE)
    bare, wrapped = [], []
    for _ in range(n):
        bare.append(timed([CHAOS, "--no-version-check", "--log-file", tmp + "/b.log", "run",
                           "--journal-path", tmp + "/b.json", "--rollback-strategy",
                           "always", SAMPLE + "/experiment.yaml"], env, cwd=SAMPLE))
        wrapped.append(timed([CTL, "run", conf, "--chaos", CHAOS, "--runs-dir",
                              tmp + "/runs"], env))
    b, w = statistics.median(bare), statistics.median(wrapped)
    print("chaosctl run vs bare chaos run (sample experiment, median of %d): "
          "%.0f ms vs %.0f ms, overhead %+.0f ms" % (n, w, b, w - b))


def bench_discovery(hosts):
    s = MotoServer()
    s.start()
    try:
        s.call([("ecs", "create_cluster", {"clusterName": "big"})])
        r = s.call([("ec2", "run_instances", {"ImageId": "ami-12c6146b", "MinCount": hosts,
                                              "MaxCount": hosts})])[0]
        calls = []
        for inst in r["Instances"]:
            doc = json.dumps({"instanceId": inst["InstanceId"], "region": "us-east-1"})
            calls.append(("ecs", "register_container_instance",
                          {"cluster": "big", "instanceIdentityDocument": doc}))
        s.call(calls)
        env = dict(os.environ, **s.env())
        times = [timed([CTL, "--cluster", "big", "--output", "json", "targets"], env)
                 for _ in range(5)]
        out = subprocess.run([CTL, "--cluster", "big", "--output", "json", "targets"],
                             env=env, capture_output=True, text=True).stdout
        print("discovery of a %d-instance cluster in moto: median %.0f ms over 5 "
              "(%d hosts found; ListContainerInstances, DescribeContainerInstances, "
              "DescribeInstances)" % (hosts, statistics.median(times),
                                      len(json.loads(out)["hosts"])))
    finally:
        s.stop()


if __name__ == "__main__":
    print("== AWS side of chaosctl")
    bench_run(int(os.environ.get("BENCH_RUNS", "10")))
    bench_discovery(int(os.environ.get("BENCH_HOSTS", "100")))
