#!/usr/bin/env bash
# Runs every test:
#   1. unit tests and integration tests against a local AWS (moto, started
#      by the tests on a free loopback port);
#   2. the SAM template through cfn-lint and `sam validate --lint`;
#   3. the Lambda path end to end: the function under `cargo lambda watch`,
#      every file under events/ sent with `cargo lambda invoke`;
#   4. the release Lambda build (`cargo lambda build --release`, x86_64).
# Tools are installed into project-local virtualenvs on first use.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/ensure-moto.sh
scripts/ensure-tools.sh
export SAM_CLI_TELEMETRY=0
export PATH="$PWD/.venv-lambda/bin:$PATH"

echo "== cargo test"
cargo test --all-targets "$@"

echo "== template: cfn-lint, sam validate --lint"
.venv-sam/bin/cfn-lint template.yaml
.venv-sam/bin/sam validate --lint --template-file template.yaml

echo "== the Lambda path: cargo lambda watch + invoke, every file under events/"
.venv-moto/bin/python scripts/e2e_lambda.py

echo "== release Lambda build"
cargo lambda build --release
ls -l target/lambda/autoscaling-guard/bootstrap |
    awk '{ printf "bootstrap: %.1f MiB\n", $5 / 1048576 }'
