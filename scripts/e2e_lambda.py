"""End-to-end test of the Lambda path.

Runs the function against `cargo lambda watch --only-lambda-apis` (a local
Lambda Runtime API emulator) with its environment pointing at the local AWS,
sends every file under events/ with `cargo lambda invoke --data-file`, and
checks each answer and the Application Auto Scaling state that results.

The function is the binary `cargo test --all-targets` builds (the CLI tests
run it too): the emulator does not build it again, so the SDK crates are not
compiled a second time with other features. The dev-dependencies add the
`test-util` feature of tokio and the SDK crates to that build: it only adds
test helpers, and the function calls none of them.

usage: e2e_lambda.py   (cargo-lambda on PATH; run by scripts/test.sh)
"""

import json
import os
import re
import socket
import urllib.request
import subprocess
import sys
import time
import urllib.request

import boto3

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "scripts"))

FAILURES = []
PASSED = []


def check(condition, message):
    print(("  ok    " if condition else "  FAIL  ") + message)
    (PASSED if condition else FAILURES).append(message)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


FUNCTION = "autoscaling-guard"


def function_binary():
    """The path of the autoscaling-guard binary of the test build. After
    `cargo test --all-targets` this builds nothing; run alone, it builds what
    the tests would."""
    proc = subprocess.run(
        ["cargo", "test", "--all-targets", "--no-run", "--quiet", "--message-format=json"],
        cwd=ROOT, stdout=subprocess.PIPE, text=True, check=True,
    )
    for line in proc.stdout.splitlines():
        msg = json.loads(line)
        if (msg.get("reason") == "compiler-artifact" and msg["target"]["kind"] == ["bin"]
                and msg["target"]["name"] == FUNCTION and not msg["profile"]["test"]):
            return msg["executable"]
    sys.exit(f"cargo test --no-run built no {FUNCTION} binary")


binary = function_binary()
import local_aws  # noqa: E402

moto, url = local_aws.spawn()
os.environ.update(AWS_ENDPOINT_URL=url, AWS_REGION="us-east-1",
                  AWS_ACCESS_KEY_ID="e2e", AWS_SECRET_ACCESS_KEY="e2e", LOG_LEVEL="info")
import demo_fleet  # noqa: E402  (reads AWS_ENDPOINT_URL)

demo_fleet.create()
aas = demo_fleet.aas

# Two spoke accounts, each with the spoke role (as spoke.yaml creates it) and
# its own demo-recommender; their events are forwarded to the function.
SPOKE_ROLE = "autoscaling-guard-spoke"
SPOKES = ("111111111111", "222222222222")


def in_spoke(service, account):
    """A client whose key the local AWS places in `account`."""
    return boto3.client(service, **dict(demo_fleet.KW, aws_access_key_id=f"setup-{account}"))


# The hub's own account is worked through the spoke role outside the hub's
# Region (the developer guide's sample event is from us-west-2): the spoke
# stack is deployed there too.
boto3.client("iam", **demo_fleet.KW).create_role(
    RoleName=SPOKE_ROLE, AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                 "Principal": {"AWS": "arn:aws:iam::123456789012:root"}}]}))
for spoke in SPOKES:
    request = urllib.request.Request(f"{url}/_local_aws/accounts", method="POST", data=json.dumps(
        {"access_key": f"setup-{spoke}", "account": spoke}).encode())
    urllib.request.urlopen(request).read()
    in_spoke("iam", spoke).create_role(RoleName=SPOKE_ROLE, AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                 "Principal": {"AWS": "arn:aws:iam::123456789012:root"}}]}))
    demo_fleet.create_endpoints(in_spoke("sagemaker", spoke), ["demo-recommender"])

port = free_port()
emulator_log_path = os.path.join(ROOT, "target", "e2e-lambda-emulator.log")
log_path = os.path.join(ROOT, "target", "e2e-lambda-function.log")
os.makedirs(os.path.dirname(log_path), exist_ok=True)
emulator_log = open(emulator_log_path, "w")
log = open(log_path, "w")
emulator = subprocess.Popen(
    ["cargo", "lambda", "watch", "--only-lambda-apis", "--invoke-port", str(port)],
    cwd=ROOT, stdout=emulator_log, stderr=subprocess.STDOUT,
)
function = None


def wait_for_emulator(seconds=120):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if emulator.poll() is not None:
            sys.exit(f"cargo lambda watch exited; see {emulator_log_path}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.5)
    sys.exit(f"the Lambda emulator did not listen on port {port}; see {emulator_log_path}")


def start_function(**extra_env):
    """The environment `cargo lambda watch` gives a function it starts itself;
    the Runtime API path names the function, so that the emulator hands it
    the invocations `cargo lambda invoke autoscaling-guard` sends."""
    # The function signs with the tool's access key id, so that the local
    # AWS's operation log tells its requests from the fleet setup's and the
    # checks'.
    env = dict(os.environ,
               AWS_ACCESS_KEY_ID="guard", AWS_SECRET_ACCESS_KEY="guard",
               AWS_LAMBDA_RUNTIME_API=f"http://127.0.0.1:{port}/.rt/{FUNCTION}",
               AWS_LAMBDA_FUNCTION_NAME=FUNCTION,
               ORG_SPOKE_ROLE_NAME=SPOKE_ROLE,
               AWS_LAMBDA_FUNCTION_VERSION="1",
               AWS_LAMBDA_FUNCTION_MEMORY_SIZE="256",  # the template's
               **extra_env)
    return subprocess.Popen([binary], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)


def invoke(event_file):
    """Returns (result JSON or None, error type or None). A relative path is
    a file under events/."""
    for _ in range(3):
        proc = subprocess.run(
            ["cargo", "lambda", "invoke", FUNCTION, "--invoke-port", str(port),
             "--data-file", os.path.join(ROOT, "events", event_file), "--output-format", "json"],
            cwd=ROOT, capture_output=True, text=True,
        )
        if function.poll() is not None:
            sys.exit(f"the function exited with status {function.returncode}; see {log_path}")
        if proc.returncode == 0:
            return json.loads(proc.stdout), None
        first = next((l for l in proc.stderr.splitlines() if l.startswith("Error: ")), "")
        # The function's own errors; anything else is the tooling's.
        if first and "error sending request" not in proc.stderr:
            return None, first[len("Error: "):].strip()
        time.sleep(2)
    sys.exit(f"cargo lambda invoke {event_file} failed:\n{proc.stderr}")


def error_types():
    """ErrorType::ALL in src/error.rs: the one list of every errorType."""
    source = open(os.path.join(ROOT, "src", "error.rs")).read()
    listed = re.search(r"pub const ALL: \[ErrorType; \d+\] = \[(.*?)\];", source, re.S)
    if not listed:
        sys.exit("src/error.rs has no ErrorType::ALL")
    return re.findall(r"ErrorType::(\w+)", listed.group(1))


def set_faults(operation):
    """Every request of the function (access key `guard`) for `operation`
    fails with a 500, retries included; None clears the faults."""
    spec = ({"access_key": "guard", "seed": 1, "rate": 1.0, "kinds": ["500"], "operations": [operation]}
            if operation else {"access_key": "guard", "rate": 0})
    request = urllib.request.Request(f"{url}/_local_aws/faults", data=json.dumps(spec).encode(),
                                     headers={"Content-Type": "application/json"}, method="POST")
    urllib.request.urlopen(request).read()


def payload_file(name, payload):
    """A payload written under target/ for `cargo lambda invoke --data-file`."""
    path = os.path.join(ROOT, "target", "e2e-lambda", f"{name}.json")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(payload, f)
    return path


def create_bad_tag_endpoint(name):
    demo_fleet.sm.create_endpoint_config(
        EndpointConfigName=f"{name}-config",
        ProductionVariants=[{"VariantName": "AllTraffic", "ModelName": "demo-model",
                             "InstanceType": "ml.m5.large", "InitialInstanceCount": 1}],
    )
    demo_fleet.sm.create_endpoint(EndpointName=name, EndpointConfigName=f"{name}-config",
                                  Tags=[{"Key": "autoscaling:max-capacity", "Value": "many"}])


# A GPU target per GPU, which an instance type without GPUs cannot take.
GPU_POLICY_SET = json.dumps({"instance": {"min_capacity": 1, "max_capacity": 4, "target_tracking": [
    {"name": "gpu", "metric": "GPUUtilization", "target_per_core": 50}]}})

# The error types the events above do not bring about, each brought about
# once: (name, payload, operation made to fail, function environment, errorType).
ERROR_CASES = [
    ("bad-tag", {"action": "reconcile", "endpoint": "e2e-bad-tag"}, None, {}, "InvalidTag"),
    ("reconcile-unreadable", {"action": "reconcile", "endpoint": "demo-recommender"},
     "DescribeEndpoint", {}, "AwsError"),
    ("drift-check-unlisted", {"action": "drift-check"}, "Search", {}, "DriftCheckFailed"),
    ("release-unmarked", {"action": "release", "endpoint": "demo-recommender"}, "AddTags", {},
     "ReleaseFailed"),
    ("account-without-role", {"action": "reconcile", "endpoint": "demo-recommender",
                              "account": "333333333333", "region": "us-east-1"}, None, {}, "AccountNotReached"),
    ("gpu-target-without-gpus", {"action": "reconcile", "endpoint": "demo-recommender", "dry_run": True},
     None, {"POLICY_SET": GPU_POLICY_SET}, "PolicyNotApplicable"),
]


def scaling(client=aas, names=demo_fleet.FLEET):
    out = {}
    for name in names:
        for v, _, _ in demo_fleet.FLEET[name][0]:
            rid = f"endpoint/{name}/variant/{v}"
            t = client.describe_scalable_targets(ServiceNamespace="sagemaker", ResourceIds=[rid])["ScalableTargets"]
            p = client.describe_scaling_policies(ServiceNamespace="sagemaker", ResourceId=rid)["ScalingPolicies"]
            out[rid] = (
                (t[0]["MinCapacity"], t[0]["MaxCapacity"]) if t else None,
                sorted((x["PolicyName"], x.get("TargetTrackingScalingPolicyConfiguration", {}).get("TargetValue"))
                       for x in p if x["ResourceId"] == rid),
            )
    return out


# Every file under events/, in this order, with what it must do.
PLAN = [
    ("endpoint-creating.json", "ignored"),
    ("endpoint-updating.json", "ignored"),
    ("endpoint-failed.json", "ignored"),
    ("endpoint-deleting.json", "ignored"),
    ("endpoint-in-service.json", "onboards"),
    ("endpoint-in-service-doc-sample.json", "gone"),
    ("direct-reconcile.json", "no-op"),
    ("drift-check-schedule-rule.json", "repairs"),
    ("drift-check-scheduler.json", "clean"),
    ("drift-check-direct.json", "clean"),
    ("forwarded-in-service-111111111111.json", "spoke"),
    ("forwarded-in-service-222222222222.json", "spoke"),
    ("malformed-missing-endpoint-name.json", "InvalidEvent"),
    ("malformed-wrong-types.json", "InvalidEvent"),
    ("malformed-unknown-source.json", "InvalidEvent"),
    ("malformed-not-json.json", "InvalidEvent"),
    ("release.json", "ReleaseRefused"),
    ("release-all.json", "plans-uninstall"),
]
files = sorted(f for f in os.listdir(os.path.join(ROOT, "events")) if f.endswith(".json"))
check(sorted(f for f, _ in PLAN) == files, "every file under events/ has an expectation")

try:
    wait_for_emulator()
    function = start_function()
    for event_file, expect in PLAN:
        print(f"{event_file} ({expect})")
        before = scaling()
        result, error = invoke(event_file)
        if expect == "ignored":
            check(error is None and result["action"] == "ignored", f"acknowledged and ignored ({error})")
            check(result and result["status"] == event_file.split("-")[1].split(".")[0].upper(), "reports the status")
            check(scaling() == before, "changes nothing")
        elif expect == "onboards":
            check(error is None and result["outcome"] == "changed", f"reconciled: {result and result['outcome']}")
            check(result["writes"] == 4, f"4 writes for two variants: {result['writes']}")
            after = scaling()
            for v in ("primary", "canary"):
                check(after[f"endpoint/demo-recommender/variant/{v}"] ==
                      ((1, 6), [("autoscaling-guard-invocations", 70.0)]), f"{v}: min 1, max 6 (tag), policy")
        elif expect == "gone":
            check(error is None and result["outcome"] == "gone" and result["writes"] == 0,
                  "the developer guide's sample: accepted; its endpoint does not exist, nothing written")
        elif expect == "no-op":
            check(error is None and result["outcome"] == "compliant" and result["writes"] == 0,
                  "the same endpoint again: compliant, no writes")
        elif expect == "spoke":
            account = event_file.rsplit("-", 1)[1].split(".")[0]
            check(error is None and result["outcome"] == "changed" and result["account"] == account,
                  f"reconciled in account {account}: {error or (result['account'], result['outcome'])}")
            check(scaling() == before, "the hub's own endpoints untouched")
            spoke = scaling(in_spoke("application-autoscaling", account), ["demo-recommender"])
            for v in ("primary", "canary"):
                check(spoke[f"endpoint/demo-recommender/variant/{v}"] ==
                      ((1, 6), [("autoscaling-guard-invocations", 70.0)]), f"{account} {v}: min 1, max 6, policy")
        elif expect in ("repairs", "clean"):
            check(error is None and result["action"] == "drift-check", "drift check ran")
            s = result["summary"]
            check(s["endpoints"] == 5, f"saw the 5 sample endpoints: {s['endpoints']}")
            if expect == "repairs":
                check(s["remediated"] == 1, f"onboarded demo-fraud: remediated {s['remediated']}")
            else:
                check(s["drifted"] == 0 and s["writes"] == 0, f"nothing left to repair: {s}")
            check(s["skipped"] == 3, f"3 skipped (burstable, opted out, foreign): {s['skipped']}")
        elif expect == "plans-uninstall":
            check(error is None and result["all"] is True and result["dry_run"] is True,
                  f"release --all, dry run ({error})")
            s = result["summary"]
            check((s["resources"], s["policies"], s["targets_deregistered"], s["targets_kept"], s["errors"])
                  == (3, 3, 3, 0, 0), f"would remove the 3 owned policies and their targets, nothing else: {s}")
            check(result["writes"] == 0 and scaling() == before, "a dry run changes nothing")
        else:
            check(result is None and error == expect, f"fails with {expect}: got {error}")
            check(scaling() == before, "changes nothing")

    final = scaling()
    check(final["endpoint/demo-fraud/variant/AllTraffic"][0] == (1, 5), "demo-fraud: max raised to its 5 instances")
    check(final["endpoint/demo-chatbot-dev/variant/AllTraffic"] == (None, []), "burstable endpoint untouched")
    check(final["endpoint/demo-legacy/variant/AllTraffic"] == (None, []), "opted-out endpoint untouched")
    check(final["endpoint/demo-search/variant/AllTraffic"] == ((3, 12), [("search-team-latency", 300.0)]),
          "a person's scaling untouched")

    # Every errorType the function can return, each asserted once.
    listed = error_types()
    expected = [e for _, e in PLAN if e in listed] + [c[-1] for c in ERROR_CASES]
    check(sorted(set(expected)) == sorted(listed) and len(listed) == len(set(listed)),
          f"every errorType of src/error.rs is brought about: {sorted(set(expected))} vs {listed}")
    create_bad_tag_endpoint("e2e-bad-tag")
    environment = {}
    for name, payload, failing, env, expect in ERROR_CASES:
        print(f"{name} ({expect})")
        if env != environment:
            function.terminate()
            function.wait(timeout=10)
            function = start_function(**env)
            environment = env
        before = scaling()
        set_faults(failing)
        try:
            result, error = invoke(payload_file(name, payload))
        finally:
            set_faults(None)
        check(result is None and error == expect, f"fails with {expect}: got {error}")
        check(scaling() == before, "changes nothing")
finally:
    for process in (function, emulator):
        if process is None:
            continue
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
    log.close()
    emulator_log.close()
    moto.terminate()

logged = open(log_path).read().splitlines()
json_lines = []
for l in logged:
    try:
        json_lines.append(json.loads(l[l.index("{"):]))
    except ValueError:
        pass
check(any(j.get("message") == "applied change" and j.get("level") == "INFO" for j in json_lines),
      "JSON log line per applied change")
for j in json_lines:
    for key, value in j.items():
        if key in ("_aws", "Service", "Mode"):
            continue  # the EMF line's own names
        if not re.fullmatch(r"[a-z_]+", key) or (isinstance(value, str) and re.search(r'\w\("|Some\(', value)):
            check(False, f"a plain snake_case log field: {key}={value!r}")
failed = [j for j in json_lines if j.get("message") == "invocation failed"]
check(sorted({j["error_type"] for j in failed}) == sorted(set(error_types())),
      "an `invocation failed` line with its error_type for every error type")
check(any(j["error_type"] == "ReleaseFailed" and j.get("endpoint") == "demo-recommender" for j in failed),
      "an `invocation failed` line names the endpoint")
reconciled = [j for j in json_lines if j.get("message") == "reconciled"]
check(any(j.get("endpoint") == "demo-recommender" and j.get("outcome") == "changed" and j.get("writes") == 4
          for j in reconciled), "a `reconciled` line with endpoint, outcome and writes")
done = [j for j in json_lines if j.get("message") == "drift check done"]
check(bool(done) and all(isinstance(j.get("endpoints"), int) and isinstance(j.get("errors"), int) for j in done),
      "a `drift check done` line with every count as a field")
check(any(j.get("message") == "variant not compliant" and j.get("endpoint") == "demo-fraud"
          and j.get("outcome") == "changed" and " -> " in j.get("differences", "") for j in json_lines),
      "a `variant not compliant` line for the variant the drift check repaired")
emf = [j for j in json_lines if "_aws" in j]
check(bool(emf) and emf[0]["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "AutoscalingGuard",
      "drift check wrote an Embedded Metric Format line")

print(f"\nlogs: {log_path}, {emulator_log_path}")
print(f"e2e: {len(PASSED)} passed, {len(FAILURES)} failed")
sys.exit(1 if FAILURES else 0)
