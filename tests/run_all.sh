#!/bin/sh
# run_all.sh - build and run every test of jaga (what "make check" does):
#   1. checksrc (no unsafe string calls); pyflakes on the Python tests and
#      benchmarks (unused imports and names, undefined names)
#   2. the build with warnings as errors; unit tests and fuzz-corpus replay
#   3. the same under AddressSanitizer and UndefinedBehaviorSanitizer
#   4. the wire-level suite (pytest, real Postfix peers) in a network
#      namespace with only loopback, against the sanitizer build
# It ends with one line "N passed, N failed".
set -u
cd "$(dirname "$0")/.." || exit 2
passed=0
failed=0
failures=""

count() {	# count NAME RESULT(0=pass)
	if [ "$2" -eq 0 ]; then passed=$((passed + 1)); else
		failed=$((failed + 1)); failures="$failures $1"; fi
}

# meson's testlog.json: one JSON object per test, "result": "OK"|"FAIL"...
count_meson() {	# count_meson BUILDDIR LABEL
	log="$1/meson-logs/testlog.json"
	[ -f "$log" ] || { count "$2:no-testlog" 1; return; }
	ok=$(grep -c '"result": "OK"' "$log")
	bad=$(grep -c '"result": "\(FAIL\|TIMEOUT\|ERROR\)"' "$log")
	passed=$((passed + ok))
	failed=$((failed + bad))
	[ "$bad" -eq 0 ] || failures="$failures $2:$(grep -o '"name": "[^"]*", "[^}]*"result": "\(FAIL\|TIMEOUT\|ERROR\)"' "$log" | grep -o '"name": "[^"]*"' | tr -d '" ' | sed 's/name://' | tr '\n' ',')"
}

setup() {	# setup BUILDDIR [meson options]
	dir=$1; shift
	[ -f "$dir/build.ninja" ] || meson setup "$dir" --werror "$@" >/dev/null ||
		{ echo "meson setup $dir failed"; return 1; }
}

# Third-party suites and vectors (see ../shared/testdata/SOURCES.md): beside
# the repository, or where JAGA_TESTDATA says.
if [ -z "${JAGA_TESTDATA:-}" ]; then
	for d in ../shared/testdata /work/shared/testdata; do
		[ -d "$d" ] && { JAGA_TESTDATA=$(cd "$d" && pwd); break; }
	done
fi
if [ -d "${JAGA_TESTDATA:-/nonexistent}" ]; then
	export JAGA_TESTDATA
	echo "== test data: $JAGA_TESTDATA"
else
	echo "no test data folder (../shared/testdata); set JAGA_TESTDATA"
	count testdata 1
fi

echo "== checksrc"
scripts/checksrc.sh; count checksrc $?
/usr/bin/python3 -m pyflakes tests/wire bench/*.py; count pyflakes $?

echo "== build (warnings are errors)"
if setup build --buildtype=debugoptimized && ninja -C build >/dev/null; then
	count build 0
	meson test -C build --suite unit --suite fuzz --print-errorlogs -q \
	    >build/unit.out 2>&1 || tail -40 build/unit.out
	count_meson build unit
else
	ninja -C build | tail -30; count build 1
fi

echo "== AddressSanitizer + UndefinedBehaviorSanitizer build"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
if setup build-asan --buildtype=debug -Db_sanitize=address,undefined \
    -Db_lundef=false && ninja -C build-asan >/dev/null; then
	count build-asan 0
	meson test -C build-asan --suite unit --suite fuzz --print-errorlogs -q \
	    >build-asan/unit.out 2>&1 || tail -40 build-asan/unit.out
	count_meson build-asan asan
else
	ninja -C build-asan | tail -30; count build-asan 1
fi

echo "== wire-level tests (real Postfix, swaks, smtplib; loopback only)"
if [ -x build-asan/src/cli/jaga ]; then
	# the daemon is stopped by a signal; leaks at exit are not the point here
	ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 \
	JAGA_BIN="$PWD/build-asan/src/cli/jaga" \
	    tests/wire/run.sh --junitxml="$PWD/build-asan/wire.xml"
	if [ -f build-asan/wire.xml ]; then
		t=$(grep -o 'tests="[0-9]*"' build-asan/wire.xml | head -1 | tr -dc 0-9)
		f=$(grep -o 'failures="[0-9]*"' build-asan/wire.xml | head -1 | tr -dc 0-9)
		e=$(grep -o 'errors="[0-9]*"' build-asan/wire.xml | head -1 | tr -dc 0-9)
		s=$(grep -o 'skipped="[0-9]*"' build-asan/wire.xml | head -1 | tr -dc 0-9)
		passed=$((passed + t - f - e - s))
		failed=$((failed + f + e))
		[ $((f + e)) -eq 0 ] || failures="$failures wire($((f + e)))"
	else
		count wire-suite 1
	fi
else
	count wire-suite 1
fi

[ -z "$failures" ] || echo "failed:$failures"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
