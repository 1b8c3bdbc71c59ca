#!/usr/bin/env bash
# Simulation benchmark: 15 days of one-minute traffic for 100 variants, on
# two threads, with the default set and with a fuller one (two target
# tracking policies, a step policy, schedules). Prints each run and the
# medians of wall time, CPU time and peak RSS. Builds in release mode.
# Usage: scripts/bench-simulate.sh [RUNS [VARIANTS [DAYS]]]
set -euo pipefail
cd "$(dirname "$0")/.."

runs="${1:-5}" variants="${2:-100}" days="${3:-15}"
[ -x /usr/bin/time ] || { echo "/usr/bin/time is needed to measure CPU time (Debian package: time)" >&2; exit 1; }
cargo build --release --quiet --example bench_simulate
bin=target/release/examples/bench_simulate

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

for set in default full; do
    walls=() cpus=() rss=()
    for _ in $(seq "$runs"); do
        line=$(/usr/bin/time -f "cpu_s=%U+%S" "$bin" "$variants" "$days" "$set" 2>/tmp/bench-simulate-time.$$)
        echo "$line $(cat /tmp/bench-simulate-time.$$)"
        walls+=("$(sed -n 's/.*wall_ms=\([0-9.]*\).*/\1/p' <<<"$line")")
        rss+=("$(sed -n 's/.*peak_rss_mb=\([0-9.]*\).*/\1/p' <<<"$line")")
        cpus+=("$(sed -n 's/cpu_s=//p' /tmp/bench-simulate-time.$$ | awk -F+ '{printf "%.2f", $1 + $2}')")
    done
    rm -f /tmp/bench-simulate-time.$$
    printf 'median set=%s runs=%s variants=%s days=%s wall_ms=%s cpu_s=%s peak_rss_mb=%s\n' \
        "$set" "$runs" "$variants" "$days" \
        "$(printf '%s\n' "${walls[@]}" | median)" \
        "$(printf '%s\n' "${cpus[@]}" | median)" \
        "$(printf '%s\n' "${rss[@]}" | median)"
done
