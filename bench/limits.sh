#!/bin/sh
# limits.sh - limit decisions per second and memory for 1,000,000 tracked
# keys (bench/limits_bench.c) in the memory, SQLite and Redis backends (a
# scratch redis-server on a free loopback port, when installed), appended to
# BENCHMARKS.md under "## Limit decisions" with --write.
# usage: bench/limits.sh [--write]   environment: BUILD [build] SECS [3] KEYS [1000000]
# LIMITS_ONLY=redis: the Redis backend alone (its rates and memory)
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
ninja -C "$BUILD" bench/limits_bench >/dev/null
dir=$(mktemp -d /tmp/jaga-limits-bench-XXXXXX)
redis_pid=""
trap '[ -z "$redis_pid" ] || kill "$redis_pid"; rm -rf "$dir"' EXIT
url=""
if command -v redis-server >/dev/null; then
	port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no \
	    --daemonize no >/dev/null &
	redis_pid=$!
	for _ in $(seq 50); do
		redis-cli -p "$port" ping >/dev/null 2>&1 && break
		sleep 0.1
	done
	url="redis://127.0.0.1:$port"
else
	echo "limits.sh: redis-server not installed; no Redis numbers" >&2
fi
out=$("$BUILD/bench/limits_bench" "$dir" "${SECS:-3}" "${KEYS:-1000000}" $url)
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
