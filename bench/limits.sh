#!/bin/sh
# limits.sh - limit decisions per second and memory for 1,000,000 tracked
# keys (bench/limits_bench.c), appended to BENCHMARKS.md under
# "## Limit decisions" with --write.
# usage: bench/limits.sh [--write]   environment: BUILD [build] SECS [3] KEYS [1000000]
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
ninja -C "$BUILD" bench/limits_bench >/dev/null
dir=$(mktemp -d /tmp/jaga-limits-bench-XXXXXX)
trap 'rm -rf "$dir"' EXIT
out=$("$BUILD/bench/limits_bench" "$dir" "${SECS:-3}" "${KEYS:-1000000}")
echo "$out"
if [ "${1:-}" = --write ]; then
	{
		printf '\n## Limit decisions\n\n'
		printf '%s, %s CPUs, %s; `bench/limits.sh --write`\n\n' \
		    "$(date -u +%Y-%m-%d)" "$(nproc)" "$BUILD"
		echo "$out"
		printf '\n- target: 1,000,000 tracked keys in under 200 MB\n'
	} >>BENCHMARKS.md
fi
