#!/usr/bin/env bash
# Runs every test: unit tests, and integration tests against a local AWS
# (moto, installed into .venv-moto on first use and started by the tests).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/ensure-moto.sh
cargo test --all-targets "$@"
