#!/usr/bin/env bash
# Drift-check benchmark: 1,000 endpoints with two variants each on the local
# AWS. Builds the release binary first.
# Usage: scripts/bench-drift.sh [N [POLICY_SET_FILE]]
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/ensure-moto.sh
[ -x /usr/bin/time ] || { echo "/usr/bin/time is needed to measure peak RSS (Debian package: time)" >&2; exit 1; }
cargo build --release --quiet
exec .venv-moto/bin/python scripts/bench_drift.py target/release/autoscaling-guard "${1:-1000}" ${2:+"$2"}
