#!/bin/sh
# dkim.sh - DKIM signatures and verifications per second (issue 5, Benchmark):
# jaga in process (bench/dkim_bench.c), dkimpy (python3-dkim), and
# "openssl speed" for the same key types, one run on this machine; 5 KB and
# 100 KB of body, RSA-2048 and Ed25519, relaxed/relaxed.  The verify figures
# include parsing the message and canonicalizing it; the key comes from a
# table (no DNS).  OpenDKIM has no in-process driver in Debian
# (opendkim-testmsg signs rsa-sha1 only; "opendkim -t" is a process per
# message), so it is not measured here.
# usage: bench/dkim.sh [--write]   environment: BUILD [build] SECS [2]
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
SECS=${SECS:-2}
ninja -C "$BUILD" bench/dkim_bench src/cli/jaga >/dev/null
dir=$(mktemp -d /tmp/jaga-dkim-bench-XXXXXX)
trap 'rm -rf "$dir"' EXIT
J="$BUILD/src/cli/jaga"
: > "$dir/dns.txt"
for t in rsa ed25519; do
	"$J" dkim keygen --domain example.org --selector "$t" --type "$t" \
	    --out "$dir/$t.key" 2>/dev/null |
	    sed 's/^\([^ ]*\)\. IN TXT ( \(.*\) )$/\1 \2/; s/" "//g; s/"//g' >> "$dir/dns.txt"
done
speed=$(openssl speed -seconds "$SECS" rsa2048 ed25519 2>/dev/null)
rsa_sign=$(echo "$speed" | awk '/^rsa 2048 bits/ {print $6}')
rsa_verify=$(echo "$speed" | awk '/^rsa 2048 bits/ {print $7}')
ed_sign=$(echo "$speed" | awk '/EdDSA \(Ed25519\)/ {print $(NF-1)}' | tail -1)
ed_verify=$(echo "$speed" | awk '/EdDSA \(Ed25519\)/ {print $NF}' | tail -1)
out="| key | body | jaga sign/s | jaga verify/s | dkimpy sign/s | dkimpy verify/s | openssl speed sign/s | openssl speed verify/s |
|---|---:|---:|---:|---:|---:|---:|---:|"
for t in rsa ed25519; do
	for size in 5120 102400; do
		j=$("$BUILD/bench/dkim_bench" "$dir/$t.key" "$dir/dns.txt" example.org "$t" "$size" "$SECS")
		p=$(/usr/bin/python3 - "$dir" "$t" "$size" "$SECS" <<'PY'
import base64, sys, time
import dkim
d, t, size, secs = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
key = open("%s/%s.key" % (d, t), "rb").read()
alg = b"rsa-sha256"
if t == "ed25519":
    key = base64.b64encode(base64.b64decode(b"".join(key.splitlines()[1:-1]))[-32:])
    alg = b"ed25519-sha256"
table = dict(l.split(" ", 1) for l in open(d + "/dns.txt").read().splitlines())
line = b"The quick brown fox jumps over the lazy dog, again and again and again.  \r\n"
msg = (b"From: Bench <bench@example.org>\r\nTo: someone@example.net\r\nSubject: a benchmark message\r\n"
       b"Date: Mon, 23 Nov 2026 08:00:00 +0000\r\nMessage-ID: <bench@example.org>\r\n\r\n" +
       line * (size // 76 + 1))
n, t0 = 0, time.monotonic()
while time.monotonic() - t0 < secs:
    sig = dkim.sign(msg, t.encode(), b"example.org", key, signature_algorithm=alg,
                    canonicalize=(b"relaxed", b"relaxed"))
    n += 1
s = n / (time.monotonic() - t0)
m = sig + msg
dns = lambda name, timeout=5: table[name.decode().rstrip(".")].encode()
n, t0 = 0, time.monotonic()
while time.monotonic() - t0 < secs:
    assert dkim.verify(m, dnsfunc=dns)
    n += 1
print("%.0f %.0f" % (s, n / (time.monotonic() - t0)))
PY
)
		if [ "$t" = rsa ]; then os=$rsa_sign; ov=$rsa_verify; k="RSA-2048"; else os=$ed_sign; ov=$ed_verify; k="Ed25519"; fi
		out="$out
| $k | $((size / 1024)) KB | $(echo "$j" | awk '{print $2}' | tr -d /s) | $(echo "$j" | awk '{print $4}' | tr -d /s) | ${p% *} | ${p#* } | ${os%.*} | ${ov%.*} |"
	done
done
echo "$out"
if [ "${1:-}" = "--write" ]; then
	{
		echo
		echo "## DKIM signatures per second"
		echo
		echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC'); machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
		echo "- bench/dkim.sh, ${SECS}s per cell, one thread; jaga $(git rev-parse --short HEAD) ($BUILD), dkimpy $(dpkg-query -W -f='${Version}' python3-dkim), $(openssl version | cut -d' ' -f1-2)"
		echo "- jaga and dkimpy: parse, canonicalize, hash and sign or verify one message, relaxed/relaxed, key from a table; openssl speed: the bare signature operation"
		echo
		echo "$out"
	} >> BENCHMARKS.md
fi
