#!/usr/bin/env bash
# Creates (once) the project-local virtualenv that holds the local AWS.
# Kept apart from the SAM tooling's virtualenv: aws-sam-cli pins boto3.
set -euo pipefail
cd "$(dirname "$0")/.."

MOTO_VERSION="5.2.5"
VENV=".venv-moto"

if [ -x "$VENV/bin/python" ] && "$VENV/bin/python" - "$MOTO_VERSION" <<'PY' 2>/dev/null
import sys
from importlib.metadata import version
sys.exit(0 if version("moto") == sys.argv[1] else 1)
PY
then
    exit 0
fi

echo "installing moto[server]==$MOTO_VERSION into $VENV" >&2
python3 -m venv "$VENV"
"$VENV/bin/pip" install --quiet --disable-pip-version-check "moto[server]==$MOTO_VERSION"
