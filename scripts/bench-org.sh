#!/usr/bin/env bash
# Hub-and-spoke benchmark: `drift-check --all-accounts` over spoke accounts in
# two Regions on the local AWS. Builds the release binary first.
# Usage: scripts/bench-org.sh [ACCOUNTS [ENDPOINTS_PER_PLACE]]
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/ensure-moto.sh
cargo build --release --quiet
exec .venv-moto/bin/python scripts/bench_org.py target/release/autoscaling-guard "${1:-3}" "${2:-20}"
