#!/bin/sh
# bench/burst.sh - a bursting credential against jaga's limit and suspension,
# beside Postfix's anvil rate limit (see bench/burst.py).  Runs in a private
# network namespace with only loopback up.  Needs root.
# usage: bench/burst.sh [--table] [--rates 10,100,1000] [--limit N] [--reps K]
# environment: JAGA_BIN [build/src/cli/jaga]
set -e
cd "$(dirname "$0")/.."
: "${JAGA_BIN:=build/src/cli/jaga}"
case "$JAGA_BIN" in /*) ;; *) JAGA_BIN="$(pwd)/$JAGA_BIN" ;; esac
export JAGA_BIN
exec unshare --net sh -c 'ip link set lo up && exec /usr/bin/python3 bench/burst.py "$@"' sh "$@"
