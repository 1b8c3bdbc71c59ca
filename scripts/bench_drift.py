"""Drift-check benchmark on the local AWS.

Creates ENDPOINTS endpoints with two instance-based variants each, onboards
them, then runs the drift check (the release binary, a new process each
time) on the compliant fleet, after drifting 5% of the variants, and after
remediation. Prints wall time, AWS calls by operation and peak RSS.

usage: bench_drift.py BINARY [ENDPOINTS] [POLICY_SET_FILE]
"""

import json
import os
import random
import statistics
import subprocess
import sys
import time

import boto3

import local_aws

BINARY = sys.argv[1]
COUNT = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
POLICY = sys.argv[3] if len(sys.argv) > 3 else None
REPEAT = 3


moto, url = local_aws.spawn()
env = dict(os.environ, AWS_ENDPOINT_URL=url, AWS_REGION="us-east-1",
           AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench", LOG_LEVEL="warn")
if POLICY:
    env["POLICY_SET"] = open(POLICY).read()
    print(f"policy set: {POLICY}")
kw = dict(endpoint_url=url, region_name="us-east-1",
          aws_access_key_id="bench", aws_secret_access_key="bench")
sm = boto3.client("sagemaker", **kw)
aas = boto3.client("application-autoscaling", **kw)
DIM = "sagemaker:variant:DesiredInstanceCount"


def drift_check():
    """Runs the binary once; returns (seconds, peak RSS in MiB, report)."""
    start = time.monotonic()
    proc = subprocess.run(
        ["/usr/bin/time", "-f", "RSS_KB %M", BINARY, "drift-check", "--json"],
        env=env, capture_output=True, text=True,
    )
    seconds = time.monotonic() - start
    rss = [l for l in proc.stderr.splitlines() if l.startswith("RSS_KB ")]
    if proc.returncode not in (0, 1) or not rss:
        sys.exit(f"drift-check failed ({proc.returncode}):\n{proc.stderr[-2000:]}")
    return seconds, int(rss[-1].split()[1]) / 1024, json.loads(proc.stdout)


def show(label, runs):
    seconds = statistics.median(r[0] for r in runs)
    rss = statistics.median(r[1] for r in runs)
    report = runs[-1][2]
    s = report["summary"]
    calls = report["calls_by_operation"]
    configs = calls.get("SageMaker.DescribeEndpointConfig", 0)
    reads_other = s["reads"] - configs
    print(f"\n{label} ({len(runs)} run{'s' if len(runs) > 1 else ''}; median wall time and RSS)")
    print(f"  wall time {seconds:.2f} s   peak RSS {rss:.1f} MiB")
    print(f"  endpoints {s['endpoints']}  compliant {s['compliant']}  drifted {s['drifted']}  "
          f"remediated {s['remediated']}  skipped {s['skipped']}  errors {s['errors']}  "
          f"orphans {s['orphans_found']}/{s['orphans_removed']}")
    print(f"  reads {s['reads']} ({reads_other / s['endpoints']:.3f} per endpoint "
          f"+ {configs} DescribeEndpointConfig for configs new to the process)  writes {s['writes']}")
    for op, n in sorted(calls.items()):
        print(f"    {op:<50} {n:>6}")
    return s


print(f"creating {COUNT} endpoints with two variants each on {url}")
t0 = time.monotonic()
sm.create_model(ModelName="bench-model", ExecutionRoleArn="arn:aws:iam::123456789012:role/b",
                PrimaryContainer={"Image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/b:1"})
names = [f"bench-{i:04d}" for i in range(COUNT)]
for name in names:
    sm.create_endpoint_config(EndpointConfigName=f"{name}-config", ProductionVariants=[
        {"VariantName": v, "ModelName": "bench-model", "InstanceType": "ml.m5.large",
         "InitialInstanceCount": 1} for v in ("primary", "shadow")])
    sm.create_endpoint(EndpointName=name, EndpointConfigName=f"{name}-config")
print(f"  created in {time.monotonic() - t0:.1f} s")

onboard = drift_check()
show("onboarding (drift check on a fresh fleet)", [onboard])

compliant = show("compliant fleet", [drift_check() for _ in range(REPEAT)])

rng = random.Random(7)
variants = [(n, v) for n in names for v in ("primary", "shadow")]
chosen = rng.sample(variants, len(variants) // 20)
for i, (name, variant) in enumerate(chosen):
    rid = f"endpoint/{name}/variant/{variant}"
    if i % 3 == 0:
        aas.put_scaling_policy(
            PolicyName="autoscaling-guard-invocations", ServiceNamespace="sagemaker",
            ResourceId=rid, ScalableDimension=DIM, PolicyType="TargetTrackingScaling",
            TargetTrackingScalingPolicyConfiguration={
                "TargetValue": 5.0, "ScaleInCooldown": 300, "ScaleOutCooldown": 60,
                "PredefinedMetricSpecification": {
                    "PredefinedMetricType": "SageMakerVariantInvocationsPerInstance"}})
    elif i % 3 == 1:
        # AWS deletes a target's policies with it; do both, as AWS would.
        aas.delete_scaling_policy(PolicyName="autoscaling-guard-invocations",
                                  ServiceNamespace="sagemaker", ResourceId=rid, ScalableDimension=DIM)
        aas.deregister_scalable_target(ServiceNamespace="sagemaker", ResourceId=rid,
                                       ScalableDimension=DIM)
    else:
        aas.delete_scaling_policy(PolicyName="autoscaling-guard-invocations",
                                  ServiceNamespace="sagemaker", ResourceId=rid, ScalableDimension=DIM)
print(f"\ndrifted {len(chosen)} of {len(variants)} variants "
      "(changed target values, deregistered targets, deleted policies)")

drifted = show("drifted fleet, remediated", [drift_check()])
after = show("after remediation", [drift_check() for _ in range(REPEAT)])

ok = drifted["remediated"] == len(chosen) and after["drifted"] == 0 and compliant["writes"] == 0
print(f"\nremediated {drifted['remediated']} of {len(chosen)} drifted variants; "
      f"drift after remediation: {after['drifted']}; writes on the compliant fleet: {compliant['writes']}")
moto.terminate()
sys.exit(0 if ok else 1)
