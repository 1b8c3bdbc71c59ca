"""The demo's sample fleet on the local AWS.

  demo_fleet.py create   creates the sample endpoints
  demo_fleet.py show     prints every endpoint's scaling as a table
  demo_fleet.py names    prints the sample endpoints' names
  demo_fleet.py summary  reads a handler result on stdin, prints one line
  demo_fleet.py tamper   edits the scaling of demo-recommender by hand

Reads AWS_ENDPOINT_URL from the environment, like the binary.
"""

import json
import os
import sys

import boto3

KW = dict(
    endpoint_url=os.environ["AWS_ENDPOINT_URL"],
    region_name="us-east-1",
    aws_access_key_id="demo",
    aws_secret_access_key="demo",
)
sm = boto3.client("sagemaker", **KW)
aas = boto3.client("application-autoscaling", **KW)

# name: (variants [(variant, instance type, count)], tags, note)
FLEET = {
    "demo-recommender": (
        [("primary", "ml.m5.large", 2), ("canary", "ml.c5.xlarge", 1)],
        {"team": "recommendations", "autoscaling:max-capacity": "6"},
        "two variants, max raised to 6 by a tag",
    ),
    "demo-fraud": (
        [("AllTraffic", "ml.g4dn.xlarge", 5)],
        {"team": "risk"},
        "runs 5 instances: the max of 4 is raised to 5, never scaled in",
    ),
    "demo-chatbot-dev": (
        [("AllTraffic", "ml.t2.medium", 1)],
        {},
        "burstable instance type: skipped",
    ),
    "demo-legacy": (
        [("AllTraffic", "ml.m5.xlarge", 2)],
        {"autoscaling:enabled": "false"},
        "opted out by tag: skipped",
    ),
    "demo-search": (
        [("AllTraffic", "ml.c5.2xlarge", 3)],
        {},
        "a person's own policy: left alone",
    ),
}


def create_endpoints(client, names) -> None:
    """Creates the model and the named FLEET endpoints with a SageMaker client
    (that of another account, too)."""
    client.create_model(
        ModelName="demo-model",
        ExecutionRoleArn="arn:aws:iam::123456789012:role/demo",
        PrimaryContainer={"Image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/demo:1"},
    )
    for name in names:
        variants, tags, _ = FLEET[name]
        client.create_endpoint_config(
            EndpointConfigName=f"{name}-config",
            ProductionVariants=[
                {
                    "VariantName": v,
                    "ModelName": "demo-model",
                    "InstanceType": t,
                    "InitialInstanceCount": n,
                }
                for v, t, n in variants
            ],
        )
        client.create_endpoint(
            EndpointName=name,
            EndpointConfigName=f"{name}-config",
            Tags=[{"Key": k, "Value": v} for k, v in tags.items()],
        )


def create() -> None:
    create_endpoints(sm, FLEET)
    # demo-search's team scales it themselves.
    rid = "endpoint/demo-search/variant/AllTraffic"
    dim = "sagemaker:variant:DesiredInstanceCount"
    aas.register_scalable_target(
        ServiceNamespace="sagemaker", ResourceId=rid, ScalableDimension=dim,
        MinCapacity=3, MaxCapacity=12,
    )
    aas.put_scaling_policy(
        PolicyName="search-team-latency", ServiceNamespace="sagemaker",
        ResourceId=rid, ScalableDimension=dim, PolicyType="TargetTrackingScaling",
        TargetTrackingScalingPolicyConfiguration={
            "TargetValue": 300.0,
            "PredefinedMetricSpecification": {
                "PredefinedMetricType": "SageMakerVariantInvocationsPerInstance"
            },
        },
    )
    for name, (_, _, note) in FLEET.items():
        print(f"  created {name:<18} {note}")


def show() -> None:
    rows = [("ENDPOINT / VARIANT", "TYPE x N", "TARGET", "POLICIES")]
    for name, (variants, _, _) in FLEET.items():
        for v, t, n in variants:
            rid = f"endpoint/{name}/variant/{v}"
            targets = aas.describe_scalable_targets(
                ServiceNamespace="sagemaker", ResourceIds=[rid]
            )["ScalableTargets"]
            target = (
                f"min {targets[0]['MinCapacity']} max {targets[0]['MaxCapacity']}"
                if targets else "not registered"
            )
            policies = []
            for p in aas.describe_scaling_policies(
                ServiceNamespace="sagemaker", ResourceId=rid
            )["ScalingPolicies"]:
                if p["ResourceId"] != rid:
                    continue
                c = p.get("TargetTrackingScalingPolicyConfiguration", {})
                policies.append(
                    f"{p['PolicyName']} (target {c.get('TargetValue')}, "
                    f"in {c.get('ScaleInCooldown', '-')}s, out {c.get('ScaleOutCooldown', '-')}s)"
                )
            rows.append((f"{name} / {v}", f"{t} x {n}", target, "; ".join(policies) or "-"))
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    for r in rows:
        print("  " + "  ".join(c.ljust(w) for c, w in zip(r[:3], widths)) + "  " + r[3])


def tamper() -> None:
    rid = "endpoint/demo-recommender/variant/primary"
    aas.put_scaling_policy(
        PolicyName="autoscaling-guard-invocations", ServiceNamespace="sagemaker",
        ResourceId=rid, ScalableDimension="sagemaker:variant:DesiredInstanceCount",
        PolicyType="TargetTrackingScaling",
        TargetTrackingScalingPolicyConfiguration={
            "TargetValue": 5.0, "ScaleInCooldown": 300, "ScaleOutCooldown": 60,
            "PredefinedMetricSpecification": {
                "PredefinedMetricType": "SageMakerVariantInvocationsPerInstance"
            },
        },
    )
    print("  set the target value of demo-recommender/primary to 5 by hand")


def names() -> None:
    print(" ".join(FLEET))


def summary() -> None:
    r = json.load(sys.stdin)
    if "errorType" in r:
        print(f"error {r['errorType']}: {r['errorMessage']}")
    elif r.get("action") == "ignored":
        print(f"ignored: {r['reason']}")
    elif r.get("action") == "drift-check":
        c = r["summary"]
        print(f"drift check: {c['endpoints']} endpoints, {c['compliant']} variants compliant, "
              f"{c['drifted']} drifted, {c['remediated']} remediated, {c['skipped']} skipped, "
              f"{c['errors']} errors, {c['orphans_found']} orphans; "
              f"reads {c['reads']} writes {c['writes']}")
    elif r.get("all"):
        c = r["summary"]
        verb = "would remove" if r["dry_run"] else "removed"
        print(f"release --all: {verb} {c['policies']} policies, {c['scheduled_actions']} scheduled "
              f"actions, {c['alarms']} alarms and {c['targets_deregistered']} targets of "
              f"{c['resources']} variants; reads {r['reads']} writes {r['writes']}")
    else:
        why = (r.get("reason") or {}).get("code") or ", ".join(
            f"{v['variant']} {v['reason']['code']}" for v in r["variants"] if v.get("reason")
        )
        print(f"{r['outcome']:<9} reads {r['reads']:>2} writes {r['writes']:>2}  {why}")


if __name__ == "__main__":
    {"create": create, "show": show, "names": names, "summary": summary, "tamper": tamper}[sys.argv[1]]()
