#!/bin/sh
# Run jaga's wire-level tests in a private network namespace that has only
# loopback: no packet can leave the machine.  Run from the repository root:
#   JAGA_BIN=build/src/cli/jaga tests/wire/run.sh [pytest args, e.g. -k smuggling]
# Without a test path among the arguments, all of tests/wire runs.
set -e
: "${JAGA_BIN:=build-wire/src/cli/jaga}"
case "$JAGA_BIN" in /*) ;; *) JAGA_BIN="$(pwd)/$JAGA_BIN" ;; esac
export JAGA_BIN
where=tests/wire
for a in "$@"; do
	case "$a" in tests/*|./tests/*) where= ;; esac
done
exec unshare --net sh -c 'ip link set lo up && exec /usr/bin/python3 -m pytest -q -p no:cacheprovider '"$where"' "$@"' sh "$@"
