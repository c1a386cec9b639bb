#!/bin/sh
# fuzz.sh [SECONDS] - a libFuzzer campaign over every fuzz target (clang,
# with ASan and UBSan), each for SECONDS (default 120).  New inputs that add
# coverage land in build-fuzz/corpus/NAME; copy the interesting ones into
# fuzz/corpus/NAME so the normal test suite replays them.
set -eu
cd "$(dirname "$0")/.."
secs=${1:-120}
scripts/deps.sh build
command -v clang >/dev/null || { apt-get install -y -qq clang libclang-rt-14-dev; }
if [ ! -f build-fuzz/build.ninja ]; then
	CC=clang meson setup build-fuzz -Dfuzzing=true --buildtype=debugoptimized \
	    -Dc_args=-fsanitize=fuzzer-no-link -Db_sanitize=address,undefined \
	    -Db_lundef=false
fi
ninja -C build-fuzz
for t in addr smtp_cmd smtp_reply config alert vault dns spf dkim dmarc \
    authres msgauth_ar; do
	mkdir -p "build-fuzz/corpus/$t"
	echo "== fuzz_$t for ${secs}s"
	"build-fuzz/fuzz/fuzz_$t" -max_total_time="$secs" -print_final_stats=1 \
	    "build-fuzz/corpus/$t" "fuzz/corpus/$t"
done
