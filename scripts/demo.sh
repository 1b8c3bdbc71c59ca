#!/usr/bin/env bash
# The demo: starts a local AWS, creates a sample fleet of SageMaker
# endpoints, sends the events under events/ through the Lambda handler,
# shows the resulting scaling, and stops what it started.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/ensure-moto.sh
echo "== building autoscaling-guard"
cargo build --quiet
BIN=target/debug/autoscaling-guard
PY=.venv-moto/bin/python

WORK=$(mktemp -d)
MOTO_PID=""
cleanup() {
    [ -n "$MOTO_PID" ] && kill "$MOTO_PID" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

"$PY" scripts/local_aws.py $$ > "$WORK/port" 2>/dev/null &
MOTO_PID=$!
for _ in $(seq 1 100); do grep -q '^PORT' "$WORK/port" 2>/dev/null && break; sleep 0.1; done
PORT=$(sed -n 's/^PORT //p' "$WORK/port")
[ -n "$PORT" ] || { echo "the local AWS did not start" >&2; exit 1; }
export AWS_ENDPOINT_URL="http://127.0.0.1:$PORT" AWS_REGION=us-east-1
export AWS_ACCESS_KEY_ID=demo AWS_SECRET_ACCESS_KEY=demo
export LOG_LEVEL=warn
echo "== local AWS (moto) on $AWS_ENDPOINT_URL"

echo "== creating the sample fleet"
"$PY" scripts/demo_fleet.py create

send() { # event file, label
    printf '  %-38s ' "$2"
    "$BIN" handle --event "$1" > "$WORK/out" 2> "$WORK/err" || true
    if [ -s "$WORK/out" ]; then
        "$PY" scripts/demo_fleet.py summary < "$WORK/out"
    else
        echo "rejected: $(tail -n 1 "$WORK/err")"
    fi
}

echo "== IN_SERVICE events for every sample endpoint"
for name in $("$PY" scripts/demo_fleet.py names); do
    "$PY" -c 'import json,sys; e=json.load(open("events/endpoint-in-service.json")); e["detail"]["EndpointName"]=sys.argv[1]; print(json.dumps(e))' "$name" > "$WORK/$name.json"
    send "$WORK/$name.json" "$name IN_SERVICE"
done

echo "== every file under events/"
for f in events/*.json; do
    send "$f" "$(basename "$f")"
done

echo "== resulting scaling"
"$PY" scripts/demo_fleet.py show

echo "== someone edits a policy by hand; the drift check finds it, then repairs it"
"$PY" scripts/demo_fleet.py tamper
"$BIN" drift-check --report-only | sed 's/^/  /'
"$BIN" drift-check | sed 's/^/  /'

echo "== the same events again: nothing left to write"
for name in demo-recommender demo-fraud; do
    send "$WORK/$name.json" "$name IN_SERVICE (again)"
done

echo "== simulate: the default set and examples/policy-set-burst.json on a spike (a synthetic day)"
mkdir -p target/demo
"$BIN" simulate --traffic 'synthetic:spike?base=200&peak=2000&at=600&width=60&seed=7' \
    --instance-type ml.c5.xlarge --capacity-per-instance 150 --hourly-price 0.20 \
    --compare examples/policy-set-burst.json --out target/demo/simulate-spike.svg | sed 's/^/  /'
