#!/usr/bin/python3
"""bench/burst.py - how fast a bursting credential is stopped (issue 3).

One credential with the limit `messages=N/1m action=suspend` sends messages
at a fixed rate (10, 100, 1000 per second by default) through `jaga serve`
(submission, STARTTLS + AUTH, several connections so the rate can be held)
to smtp-sink.  Measured per run:
  - accepted: messages answered 250 (and received by the sink); past limit =
    accepted - N (the target is 0 at every rate);
  - ms to suspension: from the N-th 250 (the limit hit, as the client saw
    it) to the daemon's "smtp suspend" log line (its millisecond time
    stamp; same clock);
  - ms to first refusal: from the N-th 250 to the first refused reply.
Beside it, in the same run, the peer an administrator would otherwise use:
Postfix's own rate limit (anvil, smtpd_client_message_rate_limit = N per
60 s, per client IP: Postfix has no per-account limit and no suspension).

Run as root through bench/burst.sh (a private network namespace with only
loopback).  Output: one JSON object per line on stdout (kind=run), and a
Markdown table with --table.
usage: burst.py [--rates 10,100,1000] [--limit N] [--reps K] [--table]
"""

import argparse
import base64
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "wire"))
import wirelib  # noqa: E402
from wirelib import Jaga, Postfix, SmtpClient, free_port, make_tempdir, wait_port  # noqa: E402

PASSWORD = "Burst-Bench-Pass-1"
SUSPEND_RE = re.compile(r"^(\S+) jaga\[\d+\]: \S+ smtp suspend ")


def b64(s):
    return base64.b64encode(s.encode()).decode()


def log_time(stamp):
    """2026-11-23T06:10:00.123Z -> Unix seconds."""
    t = time.strptime(stamp[:19], "%Y-%m-%dT%H:%M:%S")
    return time.mktime(t) - time.timezone + int(stamp[20:23]) / 1000.0


def start_sink():
    port = free_port()
    p = subprocess.Popen(["smtp-sink", "-c", "-u", "nobody", "127.0.0.1:%d" % port, "256"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_port("127.0.0.1", port)
    return p, port


class Sender:
    """Messages i = 0..total-1, message i sent at t0 + i/rate, spread over
    nconn connections opened (and authenticated) by open_fn beforehand."""

    def __init__(self, open_fn, name, rate, total, nconn):
        self.open_fn, self.name, self.rate, self.total = open_fn, name, rate, total
        self.conns = [open_fn() for _ in range(nconn)]
        self.results = []           # (t_reply, code, enh)
        self.lock = threading.Lock()

    def one(self, c, i):
        r = c.cmd("MAIL FROM:<%s>" % self.name)
        if r.code == 250:
            rr = c.cmd("RCPT TO:<rcpt%d@remote%d.test>" % (i, i % 7))
            if rr.code != 250:
                r = rr
                c.cmd("RSET")
            else:
                msg = ("From: %s\r\nTo: rcpt%d@remote.test\r\nSubject: burst %d\r\n\r\nhello\r\n"
                       % (self.name, i, i)).encode()
                d, end = c.data(msg)
                r = end if end is not None else d
        with self.lock:
            self.results.append((time.time(), r.code, r.enh))

    def worker(self, k, t0):
        c = self.conns[k]
        for i in range(k, self.total, len(self.conns)):
            delay = t0 + i / self.rate - time.time()
            if delay > 0:
                time.sleep(delay)
            try:
                self.one(c, i)
            except (OSError, wirelib.ConnectionClosed):
                # Postfix drops a client after too many refusals.
                with self.lock:
                    self.results.append((time.time(), 0, "closed"))
                return

    def run(self):
        t0 = time.time() + 0.2
        ts = [threading.Thread(target=self.worker, args=(k, t0)) for k in range(len(self.conns))]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        for c in self.conns:
            c.close()
        self.t0 = t0
        return t0


def summarise(results, limit, t0=None):
    results.sort()
    ok = [t for t, code, _ in results if code == 250]
    refused = [t for t, code, _ in results if code != 250]
    hit = ok[limit - 1] if len(ok) >= limit else None
    first_refusal = refused[0] if refused else None
    span = results[-1][0] - t0 if results and t0 else 0
    return {"accepted": len(ok), "past_limit": len(ok) - limit,
            "t_limit": hit, "t_refused": first_refusal,
            "achieved": round(len(results) / span, 1) if span > 0 else None}


def run_jaga(args, rate, rep, sink_port):
    state = make_tempdir("jaga-burst-")
    name = "burst%d-%d@bench.test" % (rate, rep)
    try:
        r = subprocess.run([wirelib.JAGA_BIN, "user", "add", name, "--password-stdin", "--limit",
                            "messages=%d/1m action=suspend" % args.limit, "-o", "state_dir=" + state],
                           input=(PASSWORD + "\n").encode(), capture_output=True)
        if r.returncode != 0:
            raise RuntimeError(r.stderr.decode())
        g = Jaga(listeners={"submission": ("127.0.0.1", free_port())},
                 next_hop="smtp://127.0.0.1:%d" % sink_port, state_dir=state,
                 opts={"next_hop_tls": "none", "workers": "2"}).start()
        try:
            def open_fn():
                c = SmtpClient(*g.addr("submission"), timeout=30)
                c.greeting()
                c.ehlo()
                c.starttls()
                c.ehlo()
                assert c.cmd("AUTH PLAIN " + b64("\0%s\0%s" % (name, PASSWORD))).code == 235
                return c
            s = Sender(open_fn, name, rate, total_for(args, rate), conns_for(rate))
            s.run()
            out = summarise(s.results, args.limit, s.t0)
            wirelib.wait_until(lambda: " smtp suspend " in g.log_text(), timeout=2)
            m = [SUSPEND_RE.match(line) for line in g.log_text().splitlines()]
            m = [x for x in m if x]
            out["t_suspend"] = log_time(m[0].group(1)) if m else None
        finally:
            g.stop()
    finally:
        shutil.rmtree(state, ignore_errors=True)
    return out


def run_postfix(args, rate, rep, sink_port, pf):
    def open_fn():
        c = SmtpClient(pf.addr, pf.port, timeout=30)
        c.greeting()
        c.ehlo()
        return c
    s = Sender(open_fn, "burst%d-%d@bench.test" % (rate, rep), rate, total_for(args, rate),
               conns_for(rate))
    s.run()
    out = summarise(s.results, args.limit, s.t0)
    out["t_suspend"] = None
    return out


def total_for(args, rate):
    """Up to the limit, then one more second of burst (at least 20 more)."""
    return args.limit + max(20, rate)


def conns_for(rate):
    return max(1, min(16, rate // 50))


def ms(a, b):
    return None if a is None or b is None else round((b - a) * 1000.0, 1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rates", default="10,100,1000")
    ap.add_argument("--limit", type=int, default=100)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--table", action="store_true")
    ap.add_argument("--write", action="store_true", help="also append the table to BENCHMARKS.md")
    args = ap.parse_args()
    rates = [int(x) for x in args.rates.split(",")]
    sink, sink_port = start_sink()
    rows = []
    try:
        for rate in rates:
            for rep in range(args.reps):
                # Postfix: a fresh instance each run, so anvil starts at zero.
                pf = Postfix(kind="client", addr="127.0.0.3",
                             relayhost="[127.0.0.1]:%d" % sink_port,
                             extra={"smtpd_client_message_rate_limit": str(args.limit),
                                    "anvil_rate_time_unit": "60s",
                                    "smtpd_client_event_limit_exceptions": ""})
                pf.start()
                try:
                    for cfg in ("jaga", "postfix"):
                        r = (run_jaga(args, rate, rep, sink_port) if cfg == "jaga"
                             else run_postfix(args, rate, rep, sink_port, pf))
                        row = {"kind": "run", "cfg": cfg, "rate": rate, "rep": rep,
                               "limit": args.limit, "achieved": r["achieved"],
                               "accepted": r["accepted"],
                               "past_limit": r["past_limit"],
                               "ms_to_suspension": ms(r["t_limit"], r["t_suspend"]),
                               "ms_to_refusal": ms(r["t_limit"], r["t_refused"])}
                        rows.append(row)
                        print(json.dumps(row), flush=True)
                finally:
                    pf.stop()
    finally:
        sink.terminate()
        sink.wait()
    if args.table or args.write:
        table = format_table(rows, rates, args)
        print(table)
        if args.write:
            with open("BENCHMARKS.md", "a") as f:
                f.write(section(table, args))


def med(vals):
    vals = [v for v in vals if v is not None]
    return "–" if not vals else ("%g" % statistics.median(vals))


def section(table, args):
    ver = subprocess.run([wirelib.JAGA_BIN, "--version"], capture_output=True, text=True).stdout
    return """
## Burst from one credential: messages past the limit, time to suspension

%s, %d CPUs, %s; `bench/burst.sh --write` (median of %d runs per cell)

One credential with `messages=%d/1m action=suspend` sends at a fixed rate through jaga
(submission, STARTTLS + AUTH PLAIN, up to 16 connections so the rate holds) to smtp-sink.
Beside it, Postfix with `smtpd_client_message_rate_limit = %d` per 60 s (anvil): Postfix has no
per-account limit and no suspension, so its row is per client IP and it defers (450 4.7.1) instead.
"Limit hit" is the client's time of the N-th 250; the suspension time is the daemon's `smtp suspend`
log line (same clock). With several connections a refusal on one connection can come before the
N-th 250 on another, so "first refusal" can be negative. "Achieved" is the rate the sender held
(replies over the run's span); Postfix's falls below the burst because smtpd sleeps after each
refusal (`smtpd_error_sleep_time`) and drops a client after `smtpd_hard_error_limit` of them.

%s
- target: zero messages past the configured limit at any burst rate, suspension within 1 s of the
  limit being hit.
""" % (time.strftime("%Y-%m-%d", time.gmtime()), os.cpu_count(), ver.strip(), args.reps,
       args.limit, args.limit, table)


def format_table(rows, rates, args):
    out = []
    print = out.append  # noqa: A001 (the table is collected, then printed)
    print("| server | burst (msgs/s) | achieved (median) | limit | accepted (median) "
          "| past the limit (max) | ms limit → suspension (median) "
          "| ms limit → first refusal (median) | runs |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for rate in rates:
        for cfg, label in (("jaga", "jaga (per account, suspend)"),
                           ("postfix", "Postfix anvil (per client IP, defer)")):
            rs = [r for r in rows if r["cfg"] == cfg and r["rate"] == rate]
            print("| %s | %d | %s | %d | %s | %d | %s | %s | %d |" % (
                label, rate, med([r["achieved"] for r in rs]), args.limit,
                med([r["accepted"] for r in rs]),
                max(r["past_limit"] for r in rs), med([r["ms_to_suspension"] for r in rs]),
                med([r["ms_to_refusal"] for r in rs]), len(rs)))
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    main()
