#!/bin/bash
# bench/run.sh - SMTP relay throughput and idle-session memory: jaga beside Postfix.
#
# Measures, on one machine in one run, with Postfix's smtp-source and smtp-sink:
#   direct   smtp-source -> smtp-sink                      (the ceiling)
#   postfix  smtp-source -> private Postfix -> smtp-sink   (what a user would pick instead)
#   jaga     smtp-source -> jaga serve -> smtp-sink        (before-queue proxy)
#   tcprelay smtp-source -> tcp_relay -> smtp-sink         (reference: a proxy that copies
#            bytes and understands nothing and opens one next-hop connection per session)
# messages/s at several concurrencies (median of BENCH_REPS runs, configurations
# alternated), and the memory of jaga and Postfix holding BENCH_IDLE idle sessions.
#
# Everything runs on 127.0.0.0/8 inside a private network namespace with only
# loopback up: no packet leaves the machine.  Needs root (unshare --net).
#
# usage: bench/run.sh [--write]      (--write also replaces BENCHMARKS.md)
# environment (defaults in brackets):
#   JAGA_BIN [build/src/cli/jaga]  BENCH_REPS [5]  BENCH_SECS [5] (seconds per run
#   at each configuration's own rate, found by a warm-up run)  BENCH_CONC [1 10 50]
#   BENCH_SIZE [5120]  BENCH_IDLE [5000]  BENCH_CONFIGS [direct tcprelay postfix jaga]
#   BENCH_N (fixed messages per run instead of calibrating)  BENCH_TIMEOUT [2400]
#   BENCH_KEEP=1 keeps the work directory (logs, Postfix config) for inspection.
set -uo pipefail

SELF=$(readlink -f "$0")
BENCH_DIR=$(dirname "$SELF")
REPO=$(dirname "$BENCH_DIR")

if [ "${JAGA_BENCH_IN_NETNS:-}" != 1 ]; then
	[ "$(id -u)" = 0 ] || { echo "bench/run.sh: needs root for unshare --net" >&2; exit 1; }
	export JAGA_BENCH_IN_NETNS=1
	exec unshare --net -- "$SELF" "$@"
fi

WRITE=0
[ "${1:-}" = --write ] && WRITE=1
cd "$REPO" || exit 1
JAGA_BIN=${JAGA_BIN:-build/src/cli/jaga}
# A release build made for benchmarking, when the default build is absent.
[ -x "$JAGA_BIN" ] || [ ! -x build-bench/src/cli/jaga ] || JAGA_BIN=build-bench/src/cli/jaga
REPS=${BENCH_REPS:-5}
SECS=${BENCH_SECS:-5}
CONC=${BENCH_CONC:-1 10 50}
SIZE=${BENCH_SIZE:-5120}
IDLE=${BENCH_IDLE:-5000}
CONFIGS=${BENCH_CONFIGS:-direct tcprelay postfix jaga}
TIMEOUT=${BENCH_TIMEOUT:-2400}
PY=/usr/bin/python3
SINK_PORT=10025 POSTFIX_PORT=10026 JAGA_PORT=10027 RELAY_PORT=10028
WORKERS=2    # jaga's worker threads, and tcp_relay's
PF_DAEMON_DIR=$(postconf -dh daemon_directory)

ip link set lo up || exit 1
# Idle sessions need a descriptor each (jaga) or a process each (Postfix).
ulimit -Hn 65536 2>/dev/null; ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

W=$(mktemp -d /tmp/jaga-bench.XXXXXX) || exit 1
chmod 755 "$W"          # Postfix daemons (user postfix) must reach their queue below it
RESULTS=$W/results.jsonl
: >"$RESULTS"
SINK_PID= PF_PID= JAGA_PID= IDLE_PID= WD_PID= RELAY_PID=

log() { printf '%s %s\n' "$(date +%T)" "$*" >&2; }
note() { log "note: $*"; $PY -c 'import json,sys; print(json.dumps({"kind":"note","text":sys.argv[1]}))' "$*" >>"$RESULTS"; }

# Print the pids of everything process $1 started, at any depth.
descendants() {
	ps -e -o pid=,ppid= | awk -v root="$1" '
		{ kids[$2] = kids[$2] " " $1 }
		END { n = split(kids[root], q, " "); for (i = 1; i <= n; i++) {
			print q[i]; m = split(kids[q[i]], more, " ")
			for (j = 1; j <= m; j++) q[++n] = more[j] } }'
}

# Signal a process and everything it started (listed before signalling, since
# children of a dead parent are re-parented and can no longer be found).
kill_tree() {
	local sig=$1 pid=$2
	kill "-$sig" "$pid" $(descendants "$pid") 2>/dev/null
}

cleanup() {
	trap - EXIT INT TERM
	local pid
	[ -n "$WD_PID" ] && kill_tree TERM "$WD_PID"
	for pid in $IDLE_PID $JAGA_PID $RELAY_PID $SINK_PID; do kill -TERM "$pid" 2>/dev/null; done
	stop_postfix
	sleep 0.5
	# Whatever is left that this script started (Postfix children, smtp-source...).
	kill -KILL $(descendants $$) 2>/dev/null
	wait 2>/dev/null
	if [ "${BENCH_KEEP:-}" = 1 ]; then log "work directory kept: $W"; else rm -rf "$W"; fi
}
trap cleanup EXIT
trap 'log interrupted; exit 130' INT TERM
( sleep "$TIMEOUT"; log "BENCH_TIMEOUT=$TIMEOUT reached"; kill -TERM $$ ) &
WD_PID=$!

# Wait up to $2 seconds for file $1 to contain fixed string $3.
wait_for_line() {
	local i
	for ((i = 0; i < $2 * 10; i++)); do
		grep -qF -- "$3" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

wait_port() {   # wait up to 10 s for something to listen on 127.0.0.1:$1
	local i
	for ((i = 0; i < 100; i++)); do
		ss -Hltn "sport = :$1" 2>/dev/null | grep -q . && return 0
		sleep 0.1
	done
	return 1
}

start_sink() {
	smtp-sink -c -u nobody 127.0.0.1:$SINK_PORT 4096 >"$W/sink.out" 2>"$W/sink.err" &
	SINK_PID=$!
	wait_port $SINK_PORT || { log "smtp-sink did not start: $(cat "$W/sink.err")"; exit 1; }
}

# A private Postfix instance: own config, queue and data directories, relaying
# everything from 127.0.0.0/8 to smtp-sink with no checks.  Only defaults
# otherwise, except the smtpd process_limit, raised for the idle-session test.
start_postfix() {
	local d=$W/postfix
	mkdir -p "$d/conf" "$d/queue" "$d/data"
	chown postfix "$d/data"
	cat >"$d/conf/main.cf" <<-EOF
		compatibility_level = 3.6
		queue_directory = $d/queue
		data_directory = $d/data
		daemon_directory = $PF_DAEMON_DIR
		command_directory = $(postconf -dh command_directory)
		meta_directory = $(postconf -dh meta_directory)
		shlib_directory = $(postconf -dh shlib_directory)
		mail_owner = postfix
		setgid_group = postdrop
		myhostname = postfix.bench.test
		mydomain = bench.test
		myorigin = \$myhostname
		mydestination =
		local_recipient_maps =
		alias_maps =
		alias_database =
		inet_interfaces = 127.0.0.1
		inet_protocols = ipv4
		mynetworks = 127.0.0.0/8
		relayhost = [127.0.0.1]:$SINK_PORT
		smtp_dns_support_level = disabled
		smtpd_relay_restrictions = permit_mynetworks, reject
		smtpd_recipient_restrictions =
		smtp_tls_security_level = none
		smtpd_tls_security_level = none
		biff = no
		maillog_file_prefixes = $W
		maillog_file = $d/maillog
	EOF
	cat >"$d/conf/master.cf" <<-EOF
		127.0.0.1:$POSTFIX_PORT inet n - n - $((IDLE + 200)) smtpd
		pickup    unix  n - n 60    1 pickup
		cleanup   unix  n - n -     0 cleanup
		qmgr      unix  n - n 300   1 qmgr
		rewrite   unix  - - n -     - trivial-rewrite
		bounce    unix  - - n -     0 bounce
		defer     unix  - - n -     0 bounce
		trace     unix  - - n -     0 bounce
		verify    unix  - - n -     1 verify
		flush     unix  n - n 1000? 0 flush
		proxymap  unix  - - n -     - proxymap
		smtp      unix  - - n -     - smtp
		relay     unix  - - n -     - smtp
		showq     unix  n - n -     - showq
		error     unix  - - n -     - error
		retry     unix  - - n -     - error
		discard   unix  - - n -     - discard
		anvil     unix  - - n -     1 anvil
		scache    unix  - - n -     1 scache
		postlog   unix-dgram n - n - 1 postlogd
	EOF
	postfix -c "$d/conf" check >"$d/check.log" 2>&1    # creates the queue directories
	"$PF_DAEMON_DIR/master" -c "$d/conf" -d >"$d/master.log" 2>&1 &
	PF_PID=$!
	disown "$PF_PID"    # stop_postfix waits for it; no job-status noise
	wait_port $POSTFIX_PORT || { log "Postfix did not start; see $d/maillog"; exit 1; }
	PF_CONF=$d/conf
}

# Stop the Postfix master and every process it started; wait for them to go.
stop_postfix() {
	local i
	[ -n "$PF_PID" ] || return 0
	local kids
	kids=$(descendants "$PF_PID")
	# master -d is not a process group leader, so it cannot signal its children
	# itself; they also exit on their own when the master goes away.
	kill -TERM "$PF_PID" $kids 2>/dev/null
	for ((i = 0; i < 50; i++)); do
		ps -p "$(echo $PF_PID $kids | tr ' ' ,)" >/dev/null || break
		sleep 0.1
	done
	kill -KILL "$PF_PID" $kids 2>/dev/null
	wait "$PF_PID" 2>/dev/null
	PF_PID=
}

jaga_usable() { [ -x "$JAGA_BIN" ] && timeout 10 "$JAGA_BIN" serve --help >/dev/null 2>&1; }

# The relay benchmark measures the proxy against Postfix's relay, which
# checks no SPF, DKIM or DMARC: inbound_auth is off here (bench/dkim.sh and
# bench/spf.sh measure those checks).
start_jaga() {
	mkdir -p "$W/jaga-state"
	JAGA_CMD=("$JAGA_BIN" serve -o state_dir="$W/jaga-state" -o workers=$WORKERS
		-o inbound_auth=no --listen inbound=127.0.0.1:$JAGA_PORT --local-domain bench.test
		--next-hop smtp://127.0.0.1:$SINK_PORT -o next_hop_tls=none
		-o max_sessions_per_ip=100000 -o max_sessions=100000 ${BENCH_JAGA_OPTS:-})
	"${JAGA_CMD[@]}" 2>"$W/jaga.log" &
	JAGA_PID=$!
	if ! wait_for_line "$W/jaga.log" 30 " - jaga ready"; then
		log "jaga did not become ready; last log lines:"; tail -5 "$W/jaga.log" >&2
		kill -TERM "$JAGA_PID" 2>/dev/null; JAGA_PID=
		return 1
	fi
}

start_relay() {
	"$W/tcp_relay" 127.0.0.1 $RELAY_PORT 127.0.0.1 $SINK_PORT $WORKERS >"$W/relay.out" 2>&1 &
	RELAY_PID=$!
	wait_for_line "$W/relay.out" 10 ready || { log "tcp_relay did not start"; exit 1; }
}

port_of() {
	case $1 in
	direct) echo $SINK_PORT ;; postfix) echo $POSTFIX_PORT ;;
	jaga) echo $JAGA_PORT ;; tcprelay) echo $RELAY_PORT ;;
	esac
}

# One timed smtp-source run: $1 config, $2 concurrency, $3 messages, $4 rep label.
run_one() {
	local cfg=$1 c=$2 n=$3 rep=$4 out
	local trees="sink=$SINK_PID"
	[ -n "$PF_PID" ] && trees+=" postfix=$PF_PID"
	[ -n "$JAGA_PID" ] && trees+=" jaga=$JAGA_PID"
	[ -n "$RELAY_PID" ] && trees+=" tcprelay=$RELAY_PID"
	out=$($PY "$BENCH_DIR/measure.py" "$W/sink.out" "$n" $((SECS * 8 + 60)) $trees -- \
		smtp-source -s "$c" -m "$n" -l "$SIZE" -f sender@src.example -t rcpt@bench.test \
		-M src.example "127.0.0.1:$(port_of "$cfg")")
	$PY - "$cfg" "$c" "$rep" "$out" >>"$RESULTS" <<-'EOF'
		import json, sys
		try:
		    r = json.loads(sys.argv[4])
		except ValueError:
		    r = {"rc": -2, "n": 0, "deliver_s": None, "stderr": "measure.py failed"}
		r.update(kind="run", cfg=sys.argv[1], c=int(sys.argv[2]), rep=sys.argv[3])
		print(json.dumps(r))
	EOF
	$PY - "$out" <<-'EOF'
		import json, sys
		try:
		    r = json.loads(sys.argv[1])
		except ValueError:
		    sys.exit(print(0))
		ok = r["rc"] == 0 and r["deliver_s"]
		print(round(r["n"] / r["deliver_s"]) if ok else 0)
	EOF
}

# Session memory: $1 server name, $2 port, $3 root pid of the server's process tree.
idle_test() {
	local name=$1 port=$2 pid=$3 before during client ready
	before=$($PY "$BENCH_DIR/procmem.py" "$pid")
	"$W/idle_sessions" 127.0.0.1 "$port" "$IDLE" 127.1.0.1 20 600 >"$W/idle-$name.out" 2>&1 &
	IDLE_PID=$!
	if wait_for_line "$W/idle-$name.out" 300 "ready "; then
		sleep 3
		during=$($PY "$BENCH_DIR/procmem.py" "$pid")
		client=$($PY "$BENCH_DIR/procmem.py" "$IDLE_PID")
	else
		note "$name idle test: sessions not ready within 300 s"
		during='null' client='null'
	fi
	kill -TERM "$IDLE_PID" 2>/dev/null; wait "$IDLE_PID" 2>/dev/null; IDLE_PID=
	ready=$(head -1 "$W/idle-$name.out")
	log "$name idle: $ready; before $before; with sessions $during"
	$PY - "$name" "$IDLE" "$ready" "$before" "$during" "$client" >>"$RESULTS" <<-'EOF'
		import json, sys
		f = sys.argv[3].split()
		print(json.dumps({"kind": "mem", "server": sys.argv[1], "sessions": int(sys.argv[2]),
		                  "ready": int(f[1]) if len(f) > 3 else 0,
		                  "failed": int(f[3]) if len(f) > 3 else None,
		                  "before": json.loads(sys.argv[4]), "during": json.loads(sys.argv[5]),
		                  "client": json.loads(sys.argv[6])}))
	EOF
}

# Share of all CPUs busy over $1 seconds (this benchmark idle: other load).
machine_busy() {
	$PY - "$1" <<-'EOF'
		import sys, time
		def snap():
		    v = [int(x) for x in open("/proc/stat").readline().split()[1:]]
		    return sum(v) - v[3] - v[4], sum(v)
		b0, t0 = snap(); time.sleep(float(sys.argv[1])); b1, t1 = snap()
		print("%.0f%%" % (100.0 * (b1 - b0) / max(t1 - t0, 1)))
	EOF
}

# ---------------------------------------------------------------- main
log "work directory $W"
note "CPU busy with other work before the benchmark (3 s sample): $(machine_busy 3)"
cc -O2 -o "$W/idle_sessions" "$BENCH_DIR/idle_sessions.c" || exit 1
cc -O2 -pthread -o "$W/tcp_relay" "$BENCH_DIR/tcp_relay.c" || exit 1
start_sink
case " $CONFIGS " in *" tcprelay "*) start_relay ;; esac
case " $CONFIGS " in *" postfix "*) start_postfix ;; esac
JAGA_VERSION="not run"
case " $CONFIGS " in *" jaga "*)
	if jaga_usable && start_jaga; then
		JAGA_VERSION="$("$JAGA_BIN" --version 2>&1 | head -1), $JAGA_BIN"
		bt=$(meson introspect "${JAGA_BIN%/src/cli/jaga}" --buildoptions 2>/dev/null |
			$PY -c 'import json,sys; print([o["value"] for o in json.load(sys.stdin) if o["name"] == "buildtype"][0])' 2>/dev/null)
		[ -n "$bt" ] && JAGA_VERSION+=" (buildtype $bt)"
		JAGA_VERSION+=", source $(git describe --always --dirty 2>/dev/null || echo unknown)"
	else
		note "jaga skipped: $JAGA_BIN not built, not runnable or not ready"
		CONFIGS=${CONFIGS//jaga/}
	fi ;;
esac
log "configurations: $CONFIGS; concurrency: $CONC; $REPS runs each"

# Idle sessions against a fresh jaga, before it has seen any traffic.
[ -n "$JAGA_PID" ] && [ "$IDLE" -gt 0 ] && idle_test jaga $JAGA_PORT "$JAGA_PID"

# Calibrate: one warm-up run per configuration and concurrency sets the number
# of messages that lasts about BENCH_SECS at that configuration's own rate.
declare -A N
for c in $CONC; do
	for cfg in $CONFIGS; do
		if [ -n "${BENCH_N:-}" ]; then N[$cfg.$c]=$BENCH_N; continue; fi
		# a short probe, then a run of about one second at the probed rate
		rate=$(run_one "$cfg" "$c" $((c * 20 > 300 ? c * 20 : 300)) warmup)
		[ "$rate" -gt 0 ] && rate=$(run_one "$cfg" "$c" $((rate > 300 ? rate : 300)) warmup)
		if [ "$rate" -le 0 ]; then
			note "$cfg c=$c: warm-up run failed (see results); skipped"
			N[$cfg.$c]=0
			continue
		fi
		n=$(((rate * SECS + 99) / 100 * 100))
		N[$cfg.$c]=$((n < 500 ? 500 : n))
		log "warm-up $cfg c=$c: $rate msg/s -> ${N[$cfg.$c]} messages per run"
	done
done

# Measure, alternating configurations and rotating which goes first.
read -ra CFGS <<<"$CONFIGS"
for ((rep = 1; rep <= REPS; rep++)); do
	for c in $CONC; do
		for ((k = 0; k < ${#CFGS[@]}; k++)); do
			cfg=${CFGS[$(((k + rep) % ${#CFGS[@]}))]}
			[ "${N[$cfg.$c]}" -gt 0 ] || continue
			rate=$(run_one "$cfg" "$c" "${N[$cfg.$c]}" "$rep")
			log "run $rep $cfg c=$c n=${N[$cfg.$c]}: $rate msg/s"
		done
	done
done

note "CPU busy with other work after the throughput runs (3 s sample): $(machine_busy 3)"
if [ -n "$JAGA_PID" ]; then
	after=$($PY "$BENCH_DIR/procmem.py" "$JAGA_PID" | $PY -c 'import json,sys; m=json.load(sys.stdin); print("RSS %.1f MB, PSS %.1f MB" % (m["rss_kb"]/1024, m["pss_kb"]/1024))')
	note "jaga memory after the throughput runs: $after"
	log "jaga log: $(grep -c . "$W/jaga.log") lines"
fi
# Idle sessions against a fresh Postfix (no smtpd or smtp left over from the runs).
if [ -n "$PF_PID" ] && [ "$IDLE" -gt 0 ]; then
	stop_postfix
	start_postfix
	sleep 2
	idle_test postfix $POSTFIX_PORT "$PF_PID"
fi

# ---------------------------------------------------------------- report
export M_DATE="$(date -u '+%Y-%m-%d %H:%M UTC')" M_NPROC="$(nproc)" \
	M_CPU="$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')" \
	M_KERNEL="$(uname -r)" M_MEM="$(awk '/MemTotal/ {printf "%.1f GB", $2/1048576}' /proc/meminfo)" \
	M_POSTFIX="$(postconf -dh mail_version)" M_JAGA="$JAGA_VERSION" \
	M_QUEUE_FS="$(df -T "$W" | awk 'NR==2 {print $2}')" \
	M_REPS=$REPS M_SECS=$SECS M_SIZE=$SIZE M_IDLE=$IDLE M_CONC="$CONC" \
	M_JAGA_CMD="$(echo "${JAGA_CMD[*]:-}" | sed "s|$W|\$WORKDIR|g")" M_WORKERS=$WORKERS M_RELAY_PORT=$RELAY_PORT M_SINK_PORT=$SINK_PORT M_POSTFIX_PORT=$POSTFIX_PORT M_JAGA_PORT=$JAGA_PORT
cp "$W/postfix/conf/main.cf" "$W/postfix/conf/master.cf" "$W/" 2>/dev/null
$PY -c 'import json, os; print(json.dumps({k: v for k, v in os.environ.items() if k.startswith("M_")}))' >"$W/meta.json"
$PY "$BENCH_DIR/report.py" "$RESULTS" "$W" >"$W/report.md" || exit 1
cat "$W/report.md"
if [ "$WRITE" = 1 ]; then
	cp "$W/report.md" "$REPO/BENCHMARKS.md"
	log "wrote $REPO/BENCHMARKS.md"
fi
