"""Hub-and-spoke benchmark on the local AWS.

Spreads a fleet over ACCOUNTS spoke accounts in two Regions (ENDPOINTS
endpoints with one variant in each account and Region), then runs the
binary's `drift-check --all-accounts` (the fan-out in process, a new process
each time, the spoke role assumed in each account): once on the fresh fleet
(onboarding) and REPEAT times on the compliant fleet. Prints the median wall
time and the AWS calls in each account, as the local AWS counted them.

usage: bench_org.py BINARY [ACCOUNTS [ENDPOINTS]]
"""

import json
import os
import statistics
import subprocess
import sys
import time
import urllib.request

import boto3

import local_aws

BINARY = sys.argv[1]
ACCOUNTS = [f"{n:012d}" for n in range(210000000001, 210000000001 + int(sys.argv[2] if len(sys.argv) > 2 else 3))]
ENDPOINTS = int(sys.argv[3]) if len(sys.argv) > 3 else 20
REGIONS = ("us-east-1", "eu-west-1")
ROLE = "autoscaling-guard-spoke"
KEY = "bench-hub"
REPEAT = 3


local_aws_process, url = local_aws.spawn()


def control(path, body=None):
    data = None if body is None else json.dumps(body).encode()
    with urllib.request.urlopen(urllib.request.Request(url + path, data=data)) as answer:
        return json.loads(answer.read())


def client(service, account, region):
    key = f"bench-setup-{account}"
    return boto3.client(service, endpoint_url=url, region_name=region,
                        aws_access_key_id=key, aws_secret_access_key=key)


print(f"creating {len(ACCOUNTS)} accounts x {len(REGIONS)} Regions x {ENDPOINTS} endpoints on {url}")
t0 = time.monotonic()
for account in ACCOUNTS:
    control("/_local_aws/accounts", {"access_key": f"bench-setup-{account}", "account": account})
    client("iam", account, "us-east-1").create_role(RoleName=ROLE, AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                 "Principal": {"AWS": "arn:aws:iam::123456789012:root"}}]}))
    for region in REGIONS:
        sm = client("sagemaker", account, region)
        sm.create_model(ModelName="bench-model", ExecutionRoleArn=f"arn:aws:iam::{account}:role/b",
                        PrimaryContainer={"Image": f"{account}.dkr.ecr.{region}.amazonaws.com/b:1"})
        for i in range(ENDPOINTS):
            name = f"bench-{i:04d}"
            sm.create_endpoint_config(EndpointConfigName=f"{name}-config", ProductionVariants=[{
                "VariantName": "primary", "ModelName": "bench-model", "InstanceType": "ml.m5.large",
                "InitialInstanceCount": 1}])
            sm.create_endpoint(EndpointName=name, EndpointConfigName=f"{name}-config")
print(f"  created in {time.monotonic() - t0:.1f} s")

env = dict(os.environ, AWS_ENDPOINT_URL=url, AWS_REGION="us-east-1", AWS_ACCESS_KEY_ID=KEY,
           AWS_SECRET_ACCESS_KEY=KEY, LOG_LEVEL="warn", ORG_SPOKE_ROLE_NAME=ROLE,
           ORG_ACCOUNTS=",".join(ACCOUNTS), ORG_REGIONS=",".join(REGIONS))


def calls():
    """{account: (reads, writes)} the hub made, directly or through a spoke role."""
    out = {}
    for account in ACCOUNTS + ["123456789012"]:
        s = control(f"/_local_aws/stats?access_key={KEY}&account={account}")
        out[account] = (s["reads"], s["writes"], s["by_operation"])
    return out


def fan_out():
    """Runs the binary once; returns (seconds, report, calls per account)."""
    before = calls()
    start = time.monotonic()
    proc = subprocess.run([BINARY, "drift-check", "--all-accounts", "--json"],
                          env=env, capture_output=True, text=True)
    seconds = time.monotonic() - start
    if proc.returncode != 0:
        sys.exit(f"drift-check --all-accounts failed ({proc.returncode}):\n{proc.stderr[-2000:]}")
    after = calls()
    delta = {a: (after[a][0] - before[a][0], after[a][1] - before[a][1],
                 {op: n - before[a][2].get(op, 0) for op, n in after[a][2].items()
                  if n != before[a][2].get(op, 0)}) for a in after}
    return seconds, json.loads(proc.stdout), delta


def show(label, runs):
    seconds = statistics.median(r[0] for r in runs)
    report, delta = runs[-1][1], runs[-1][2]
    places = report["checked"]
    print(f"\n{label} ({len(runs)} run{'s' if len(runs) > 1 else ''}; median wall time)")
    print(f"  {len(places)} places checked, {len(report['failed'])} not reached, "
          f"{sum(p['summary']['endpoints'] for p in places)} endpoints, wall time {seconds:.2f} s")
    for account, (reads, writes, ops) in delta.items():
        if account == "123456789012":
            print(f"  hub account {account} (its own credentials): {ops}")
        else:
            print(f"  spoke account {account}: reads {reads:>5}  writes {writes:>5}")
    return report


onboarded = show("onboarding", [fan_out()])
compliant = show("compliant fleet", [fan_out() for _ in range(REPEAT)])
ok = (all(p["summary"]["remediated"] == ENDPOINTS for p in onboarded["checked"])
      and all(p["summary"]["compliant"] == ENDPOINTS and p["summary"]["writes"] == 0
              for p in compliant["checked"]))
local_aws_process.terminate()
sys.exit(0 if ok else 1)
