#!/bin/sh
# spf.sh - SPF checks per second with a warm cache (issue 5, Benchmark):
# jaga's spf_check through dns_cache and dns_unbound (bench/spf_bench.c),
# as the daemon resolves, beside pyspf
# (python3-spf over dnspython with its resolver cache on), both asking
# tests/wire/dnsserver.py on loopback for a big provider's kind of record
# set: the sender's record has mx, a and an include of the provider, whose
# record includes three netblock records, one of which includes a fourth
# (four levels, ip4 and ip6 terms, 7 of the 10 DNS-querying terms).  Five
# checks per pass: matches at each depth, over IPv4 and IPv6, and one
# client that matches nothing (the whole tree, then -all).  A first pass
# fills the caches ("cold"); the warm figure is the median of RUNS runs of
# SECS seconds.  Runs inside a private network namespace with only
# loopback up (unshare --net, as bench/run.sh): needs root.
# usage: bench/spf.sh [--write]   environment: BUILD [build] SECS [2] RUNS [3]
set -eu
cd "$(dirname "$0")/.."
if [ "${JAGA_BENCH_IN_NETNS:-}" != 1 ]; then
	[ "$(id -u)" = 0 ] || { echo "bench/spf.sh: needs root for unshare --net" >&2; exit 1; }
	export JAGA_BENCH_IN_NETNS=1
	exec unshare --net -- sh "$0" "$@"
fi
ip link set lo up
BUILD=${BUILD:-build}
SECS=${SECS:-2}
RUNS=${RUNS:-3}
ninja -C "$BUILD" bench/spf_bench >/dev/null
dir=$(mktemp -d /tmp/jaga-spf-bench-XXXXXX)
dnspid=""
trap '[ -z "$dnspid" ] || kill "$dnspid" 2>/dev/null; rm -rf "$dir"' EXIT

nets() {	# "ip4:10.N.0.0/16 ..." for N in $1..$2
	seq "$1" "$2" | awk -v p="$3" '{printf "%s%s", (NR > 1 ? " " : ""), sprintf(p, $1)}'
}
cat > "$dir/zone.json" <<EOF
{"example.org": [{"TXT": "v=spf1 mx a:smtp.example.org include:_spf.bigmail.test -all"},
                 {"MX": [10, "mx1.example.org"]}],
 "mx1.example.org": [{"A": "192.0.2.10"}, {"AAAA": "2001:db8:10::1"}],
 "smtp.example.org": [{"A": "192.0.2.20"}],
 "_spf.bigmail.test": [{"TXT": "v=spf1 include:_netblocks.bigmail.test include:_netblocks2.bigmail.test include:_netblocks3.bigmail.test ~all"}],
 "_netblocks.bigmail.test": [{"TXT": "v=spf1 $(nets 1 14 'ip4:10.%d.0.0/16') ~all"}],
 "_netblocks2.bigmail.test": [{"TXT": "v=spf1 $(nets 1 12 'ip6:2001:db8:%d::/48') ~all"}],
 "_netblocks3.bigmail.test": [{"TXT": "v=spf1 $(nets 1 10 'ip4:172.16.%d.0/24') include:_netblocks4.bigmail.test ~all"}],
 "_netblocks4.bigmail.test": [{"TXT": "v=spf1 ip4:198.18.0.0/15 ip6:2001:db8:ff::/48 ~all"}]}
EOF
# ip sender want: each depth, IPv4 and IPv6, and a miss
cases="192.0.2.10 user@example.org pass
10.7.1.1 user@example.org pass
2001:db8:5::25 user@example.org pass
198.18.5.5 user@example.org pass
203.0.113.9 user@example.org fail"

/usr/bin/python3 - "$dir/zone.json" "$dir/port" <<'PY' &
import sys, time
sys.path.insert(0, "tests/wire")
from dnsserver import DNSServer
s = DNSServer(sys.argv[1]).start()
open(sys.argv[2] + ".tmp", "w").write(str(s.port))
import os; os.rename(sys.argv[2] + ".tmp", sys.argv[2])
while True:
    time.sleep(3600)
PY
dnspid=$!
i=0
while [ ! -s "$dir/port" ] && [ "$i" -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
port=$(cat "$dir/port")

pyspf() {
	/usr/bin/python3 - "$port" "$SECS" "$cases" <<'PY'
import sys, time
import dns.resolver, spf
port, secs = int(sys.argv[1]), float(sys.argv[2])
cases = [l.split() for l in sys.argv[3].splitlines()]
r = dns.resolver.Resolver(configure=False)
r.nameservers, r.port, r.cache = ["127.0.0.1"], port, dns.resolver.Cache()
dns.resolver.default_resolver = r
def one_pass():
    for ip, sender, want in cases:
        got = spf.check2(i=ip, s=sender, h="mail.example.net")[0]
        assert got == want, (ip, got, want)
t0 = time.monotonic(); one_pass(); cold = time.monotonic() - t0
n, t0 = 0, time.monotonic()
while time.monotonic() - t0 < secs:
    one_pass()
    n += len(cases)
print("cold %.1f ms warm %.0f checks/s" % (cold * 1e3, n / (time.monotonic() - t0)))
PY
}

raw="$dir/raw.txt"
: > "$raw"
run=1
while [ "$run" -le "$RUNS" ]; do
	"$BUILD/bench/spf_bench" "127.0.0.1:$port" "$SECS" $cases |
	    awk '{print "jaga", $2, $5}' >> "$raw"
	pyspf | awk '{print "pyspf", $2, $5}' >> "$raw"
	run=$((run + 1))
done
median() {	# TOOL FIELD
	awk -v t="$1" -v f="$2" '$1 == t {print $f}' "$raw" | sort -n |
	    awk '{v[NR] = $1} END {if (NR) print v[int((NR + 1) / 2)]}'
}
jw=$(median jaga 3); pw=$(median pyspf 3)
out="| implementation | cold pass, 5 checks (ms) | warm checks/s |
|---|---:|---:|
| jaga (spf_check, dns_cache, dns_unbound) | $(median jaga 2) | $jw |
| pyspf (dnspython, cache on) | $(median pyspf 2) | $pw |"
echo "$out"
echo "jaga / pyspf (warm): $(awk -v a="$jw" -v b="$pw" 'BEGIN {printf "%.1fx", a / b}')"
if [ "${1:-}" = --write ]; then
	{
		echo "## SPF checks per second"
		echo
		echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC'); machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
		echo "- bench/spf.sh, median of $RUNS runs of ${SECS}s, one thread, wall time; jaga $(git rev-parse --short HEAD) ($BUILD), libunbound $(dpkg-query -W -f='${Version}' libunbound8), pyspf $(dpkg-query -W -f='${Version}' python3-spf) with dnspython $(dpkg-query -W -f='${Version}' python3-dnspython)"
		echo "- DNS: tests/wire/dnsserver.py on 127.0.0.1 in a private network namespace; jaga forwards to it through its answer cache (dns_cache) and libunbound's, pyspf through dnspython's resolver cache"
		echo "- records: example.org \`v=spf1 mx a:smtp.example.org include:_spf.bigmail.test -all\`; _spf.bigmail.test includes three netblock records (14 ip4, 12 ip6, 10 ip4 + an include of a fourth with ip4 and ip6): four levels, 7 DNS-querying terms"
		echo "- a pass is 5 checks: a match at the mx, in the first, second (IPv6) and fourth level, and a client that matches nothing (fail after the whole tree)"
		echo
		echo "$out"
		echo
		echo "- jaga / pyspf with warm caches: $(awk -v a="$jw" -v b="$pw" 'BEGIN {printf "%.1fx", a / b}')"
	} | /usr/bin/python3 bench/md_section.py BENCHMARKS.md "SPF checks per second"
fi
