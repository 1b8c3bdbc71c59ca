#!/usr/bin/env bash
# Creates (once) the project-local virtualenvs of the deploy tooling:
#   .venv-sam     aws-sam-cli and cfn-lint (SAM pins boto3: kept apart from moto)
#   .venv-lambda  cargo-lambda (with zig), for `cargo lambda build/watch/invoke`
#   .venv-iam     parliament, the IAM policy linter run over the template's policies
set -euo pipefail
cd "$(dirname "$0")/.."

SAM_VERSION="1.170.0"
CFN_LINT_VERSION="1.58.0"
CARGO_LAMBDA_VERSION="1.9.2"
PARLIAMENT_VERSION="1.6.4"

has() { # venv package version
    [ -x "$1/bin/python" ] && "$1/bin/python" - "$2" "$3" <<'PY' 2>/dev/null
import sys
from importlib.metadata import version
sys.exit(0 if version(sys.argv[1]) == sys.argv[2] else 1)
PY
}

if ! has .venv-sam aws-sam-cli "$SAM_VERSION" || ! has .venv-sam cfn-lint "$CFN_LINT_VERSION"; then
    echo "installing aws-sam-cli==$SAM_VERSION cfn-lint==$CFN_LINT_VERSION into .venv-sam" >&2
    python3 -m venv .venv-sam
    .venv-sam/bin/pip install --quiet --disable-pip-version-check \
        "aws-sam-cli==$SAM_VERSION" "cfn-lint==$CFN_LINT_VERSION"
fi
if ! has .venv-lambda cargo-lambda "$CARGO_LAMBDA_VERSION"; then
    echo "installing cargo-lambda==$CARGO_LAMBDA_VERSION into .venv-lambda" >&2
    python3 -m venv .venv-lambda
    .venv-lambda/bin/pip install --quiet --disable-pip-version-check "cargo-lambda==$CARGO_LAMBDA_VERSION"
fi
if ! has .venv-iam parliament "$PARLIAMENT_VERSION"; then
    echo "installing parliament==$PARLIAMENT_VERSION into .venv-iam" >&2
    python3 -m venv .venv-iam
    .venv-iam/bin/pip install --quiet --disable-pip-version-check "parliament==$PARLIAMENT_VERSION"
fi
