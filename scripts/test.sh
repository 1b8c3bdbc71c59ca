#!/usr/bin/env bash
# Runs every test:
#   1. unit tests and integration tests against a local AWS (moto, started
#      by the tests on a free loopback port);
#   2. the SAM template and the organization's spoke stack through cfn-lint
#      and `sam validate --lint`;
#   3. the Lambda path end to end: the binary the tests built, run against
#      the Runtime API emulator of `cargo lambda watch --only-lambda-apis`,
#      every file under events/ sent with `cargo lambda invoke`;
#   4. the local AWS's own self-test (request validation, faults, several
#      accounts), and spoke.yaml deployed on it by CloudFormation;
#   5. the IAM check: every AWS operation the tool performed in 1 and 3 (the
#      local AWS logs each one) and every SDK call in src/ is in
#      iam/permissions.yaml and granted by template.yaml (and, for a spoke
#      account, by spoke.yaml's role); parliament lints the policies.
# Tools are installed into project-local virtualenvs on first use, while the
# tests compile. The release Lambda build is in .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."

# Installing is mostly waiting on the network: it runs beside the compile.
scripts/ensure-moto.sh &
moto=$!
scripts/ensure-tools.sh &
tools=$!
export SAM_CLI_TELEMETRY=0
export PATH="$PWD/.venv-lambda/bin:$PATH"

# Every request the local AWS serves during this run, for the IAM check.
export LOCAL_AWS_OP_LOG="$PWD/target/local-aws-ops.jsonl"
mkdir -p target && : > "$LOCAL_AWS_OP_LOG"

echo "== cargo test"
cargo test --all-targets --no-run "$@"
wait "$moto"
cargo test --all-targets "$@"

wait "$tools"
echo "== templates: cfn-lint, sam validate --lint (template.yaml, spoke.yaml)"
.venv-sam/bin/cfn-lint template.yaml spoke.yaml
.venv-sam/bin/sam validate --lint --template-file template.yaml
.venv-sam/bin/sam validate --lint --template-file spoke.yaml

echo "== the Lambda path: the function under the Runtime API emulator, every file under events/"
.venv-moto/bin/python scripts/e2e_lambda.py

echo "== the local AWS's self-test; spoke.yaml deployed on it by CloudFormation"
(cd scripts && ../.venv-moto/bin/python -m unittest -q localaws.test_localaws)
.venv-moto/bin/python -m unittest -q scripts/test_spoke_stack.py

echo "== IAM: every call the tool made is in iam/permissions.yaml and granted by template.yaml; parliament"
.venv-sam/bin/python -m unittest -q scripts/test_check_iam.py
.venv-sam/bin/python scripts/check_iam.py --op-log "$LOCAL_AWS_OP_LOG" --lint
