#!/usr/bin/python3
"""Turn bench/run.sh results into BENCHMARKS.md: report.py RESULTS.jsonl WORKDIR

Reads the JSON lines written by run.sh (kind run / mem / note) and the M_*
environment variables it exports (machine, versions, parameters); prints
markdown.  Benchmark helper, not part of jaga.
"""
import json
import os
import statistics
import sys

def E(name, default=None):
    """A run parameter: from the environment, else from WORKDIR/meta.json."""
    return os.environ.get(name, META.get(name, default))


META = {}


def load(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def rates(runs, cfg, c, key):
    out = []
    for r in runs:
        if r["cfg"] == cfg and r["c"] == c and r["rep"] != "warmup":
            if r["rc"] == 0 and r.get(key) and r.get("delivered", 0) >= r["n"]:
                out.append(r["n"] / r[key])
    return out


def failures(runs):
    return [r for r in runs if r["rep"] != "warmup" and not (
        r["rc"] == 0 and r.get("deliver_s") and r.get("delivered", 0) >= r["n"])]


def mb(kb):
    return "%.1f MB" % (kb / 1024.0)


def throughput_table(runs, conc, cfgs):
    rows = ["| configuration | concurrency | msgs/s (median) | min–max | runs | msgs/run "
            "| jaga/postfix | jaga/direct | jaga/tcp relay |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    labels = {"direct": "direct: smtp-source → smtp-sink (ceiling)",
              "postfix": "Postfix relay, delivered to sink",
              "postfix-accept": "Postfix relay, accepted by smtpd",
              "tcprelay": "bare TCP relay → smtp-sink (reference)",
              "jaga": "jaga relay (accepted = delivered)"}
    med = {}
    for c in conc:
        for cfg in cfgs + (["postfix-accept"] if "postfix" in cfgs else []):
            base, key = (cfg, "deliver_s") if cfg != "postfix-accept" else ("postfix", "accept_s")
            v = rates(runs, base, c, key)
            n = [r["n"] for r in runs if r["cfg"] == base and r["c"] == c and r["rep"] != "warmup"]
            if not v:
                rows.append("| %s | %d | – | – | 0 | %s | | | |" % (labels[cfg], c, n[0] if n else "–"))
                continue
            m = med[cfg, c] = statistics.median(v)
            ratio_pf = ratio_dir = ratio_rel = ""
            if cfg == "tcprelay" and ("direct", c) in med:
                ratio_dir = "(%.0f%%)" % (100 * m / med["direct", c])
            if cfg == "jaga":
                if ("tcprelay", c) in med:
                    ratio_rel = "%.0f%%" % (100 * m / med["tcprelay", c])
                if ("postfix", c) in med:
                    ratio_pf = "**%.2f×**" % (m / med["postfix", c])
                if ("direct", c) in med:
                    ratio_dir = "**%.0f%%**" % (100 * m / med["direct", c])
            rows.append("| %s | %d | %.0f | %.0f–%.0f | %d | %d | %s | %s | %s |" % (
                labels[cfg], c, m, min(v), max(v), len(v), n[0], ratio_pf, ratio_dir, ratio_rel))
    return rows, med


def cpu_table(runs, conc, cfgs):
    """CPU milliseconds per message by component (medians over the runs)."""
    rows = ["| configuration | concurrency | smtp-source | server | smtp-sink | sum of these "
            "| whole machine | machine busy |",
            "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for c in conc:
        for cfg in cfgs:
            rs = [r for r in runs if r["cfg"] == cfg and r["c"] == c and r["rep"] != "warmup"
                  and r.get("cpu") and r["rc"] == 0 and r.get("deliver_s")]
            if not rs:
                continue

            def ms(key):
                return statistics.median(1000.0 * r["cpu"].get(key, 0) / r["n"] for r in rs)
            src, sink, mach = ms("source"), ms("sink"), ms("machine")
            srv = ms(cfg) if cfg != "direct" else 0.0  # tree names match cfg names
            busy = statistics.median(100.0 * r["cpu"]["machine"] / r["cpu"]["machine_total"]
                                     for r in rs if r["cpu"].get("machine_total"))
            rows.append("| %s | %d | %.3f | %s | %.3f | %.3f | %.3f | %.0f%% |" % (
                cfg, c, src, "%.3f" % srv if cfg != "direct" else "–", sink,
                src + srv + sink, mach, busy))
    return rows


def memory_table(mems):
    rows = ["| server | idle sessions held | processes | RSS before | RSS with sessions "
            "| RSS per session | PSS before | PSS with sessions | PSS per session |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for m in mems:
        b, d = m["before"], m["during"]
        if not d:
            rows.append("| %s | %d of %d | – | %s | – | – | – | – | – |" % (
                m["server"], m["ready"], m["sessions"], mb(b["rss_kb"])))
            continue
        k = max(m["ready"], 1)
        rows.append("| %s | %d of %d | %d → %d | %s | **%s** | %.1f KB | %s | %s | %.1f KB |" % (
            m["server"], m["ready"], m["sessions"], b["procs"], d["procs"],
            mb(b["rss_kb"]), mb(d["rss_kb"]), (d["rss_kb"] - b["rss_kb"]) / k,
            mb(b["pss_kb"]), mb(d["pss_kb"]), (d["pss_kb"] - b["pss_kb"]) / k))
    return rows


def main():
    meta = os.path.join(sys.argv[2], "meta.json")
    if os.path.exists(meta):
        with open(meta) as f:
            META.update(json.load(f))
    runs = [r for r in load(sys.argv[1]) if r["kind"] == "run"]
    recs = load(sys.argv[1])
    mems = [r for r in recs if r["kind"] == "mem"]
    notes = [r["text"] for r in recs if r["kind"] == "note"]
    conc = [int(c) for c in E("M_CONC", "1 10 50").split()]
    cfgs = [c for c in ("direct", "tcprelay", "postfix", "jaga") if any(r["cfg"] == c for r in runs)]
    size, idle = E("M_SIZE"), E("M_IDLE")
    table, med = throughput_table(runs, conc, cfgs)
    out = ["# Benchmarks", "",
           "Produced by `bench/run.sh --write` (run as root from the repository root; "
           "it re-executes itself under `unshare --net`, so all traffic stays on the loopback "
           "of a private network namespace). Numbers are from one run of the script.", "",
           "## SMTP relay throughput and idle-session memory", "",
           "- date: %s" % E("M_DATE"),
           "- machine: %s CPUs, %s, %s RAM, Linux %s" % (E("M_NPROC"), E("M_CPU"), E("M_MEM"), E("M_KERNEL")),
           "- versions: Postfix %s (Debian package; smtp-source, smtp-sink, smtpd); jaga: %s" % (
               E("M_POSTFIX"), E("M_JAGA")),
           "- load: smtp-source, one message of %s bytes of body (plus ~200 bytes of headers) "
           "per SMTP session (new TCP connection each), one recipient; %s runs per cell, "
           "configurations alternated; messages per run set by a warm-up run so that a run "
           "lasts about %s s at that configuration's own rate" % (size, E("M_REPS"), E("M_SECS")),
           "- Postfix queue on %s (Postfix fsyncs each queue file; jaga is a before-queue "
           "proxy and keeps no queue)" % E("M_QUEUE_FS"),
           "", "### Messages per second (median of runs; min–max)", ""]
    out += table
    out += ["",
            "A message counts when smtp-sink has received it (time from starting smtp-source "
            "until the sink's counter has grown by the run's message count). For Postfix the "
            "smtpd accept rate (time until smtp-source finished) is shown separately; its queue "
            "drains to the sink after that. jaga answers the end of DATA only after the sink "
            "accepted, so its accept rate is its delivery rate.", "",
            "The bare TCP relay (`bench/tcp_relay.c`, %s epoll threads like jaga's workers) "
            "accepts each connection, opens one to smtp-sink and copies bytes both ways without "
            "parsing anything. It is not an alternative to jaga; it shows what a proxy that "
            "opens one next-hop connection per client session can at best reach on this machine, "
            "where smtp-source, the proxy and smtp-sink share the same CPUs. jaga keeps idle "
            "next-hop connections for the next session (`next_hop_cache`, like Postfix's "
            "connection cache), so the sink sees far fewer connections through jaga than "
            "directly." % E("M_WORKERS", "2"), ""]
    cpu_rows = cpu_table(runs, conc, cfgs)
    if len(cpu_rows) > 2:
        out += ["### CPU time per message (ms, user + system)", "",
                "From /proc/PID/stat over each run, summed over each process tree (Postfix: "
                "master and all its daemons). \"Whole machine\" is all busy CPU time from "
                "/proc/stat during the run, so it also holds kernel work not charged to a "
                "process and anything else running on the machine; \"machine busy\" is that "
                "time as a share of the %s CPUs' capacity." % E("M_NPROC"), ""]
        out += cpu_rows + [""]
    out += ["### Memory with %s idle sessions" % idle, "",
            "Each session: TCP connect from one of 20 source addresses 127.1.0.1–127.1.0.20, "
            "read the greeting, EHLO, read the reply, then idle. Memory is summed over the "
            "server's process tree (VmRSS from /proc/PID/status; PSS from "
            "/proc/PID/smaps_rollup, which splits shared library pages between processes and "
            "is the fair total for Postfix's one-smtpd-per-session model). \"Before\" is the "
            "server freshly started, with no session.", ""]
    out += memory_table(mems) if mems else ["(not measured)"]
    out += ["", "### Targets", ""]
    tgt = []
    c = max(conc)
    if ("jaga", c) in med and ("postfix", c) in med:
        r = med["jaga", c] / med["postfix", c]
        tgt.append("- jaga ≥ 2× Postfix at concurrency %d: %.2f× — %s" % (c, r, "met" if r >= 2 else "**not met**"))
    if ("jaga", c) in med and ("direct", c) in med:
        r = med["jaga", c] / med["direct", c]
        tgt.append("- jaga ≥ 70%% of the direct ceiling at concurrency %d: %.0f%% — %s" % (
            c, 100 * r, "met" if r >= 0.7 else "**not met**"))
        cpu = {}
        for cfg in ("direct", "jaga"):
            rs = [x for x in runs if x["cfg"] == cfg and x["c"] == c and x["rep"] != "warmup"
                  and x.get("cpu", {}).get("machine")]
            if rs:
                cpu[cfg] = statistics.median(x["cpu"]["machine"] / x["n"] for x in rs)
        if len(cpu) == 2:
            tgt.append("  (the machine is CPU-bound here: whole-machine CPU per message is %.3f ms "
                       "direct and %.3f ms through jaga, which alone predicts %.0f%%)" % (
                           1000 * cpu["direct"], 1000 * cpu["jaga"], 100 * cpu["direct"] / cpu["jaga"]))
        if ("tcprelay", c) in med:
            tgt.append("  (for scale: the bare TCP relay reaches %.0f%% of the ceiling, and jaga %.0f%% "
                       "of the bare relay)" % (100 * med["tcprelay", c] / med["direct", c],
                                              100 * med["jaga", c] / med["tcprelay", c]))
    for m in mems:
        if m["server"] == "jaga" and m["during"]:
            v = m["during"]["rss_kb"] / 1024.0
            ok = v < 100 and m["ready"] >= m["sessions"]
            tgt.append("- jaga holds %s idle sessions in < 100 MB RSS: %d held, %.1f MB — %s" % (
                m["sessions"], m["ready"], v, "met" if ok else "**not met**"))
    out += tgt or ["- jaga was not measured in this run."]
    fails = failures(runs)
    if fails or notes:
        out += ["", "### Notes", ""]
        out += ["- %s" % n for n in notes]
        for f in fails:
            out.append("- failed run: %s c=%d rep %s: rc=%s, delivered %s of %d; %s" % (
                f["cfg"], f["c"], f["rep"], f["rc"], f.get("delivered"), f["n"],
                (f.get("stderr") or "").strip().replace("\n", " ")[:200]))
    sp, pp, jp = E("M_SINK_PORT"), E("M_POSTFIX_PORT"), E("M_JAGA_PORT")
    out += ["", "### Commands", "", "```",
            "bench/run.sh --write   # everything below, in one private network namespace",
            "# inside: unshare --net; ip link set lo up; ulimit -n 65536",
            "smtp-sink -c -u nobody 127.0.0.1:%s 4096" % sp,
            "# Postfix: own config_directory, queue_directory and data_directory under a "
            "temporary directory; main.cf/master.cf as written by bench/run.sh start_postfix:",
            "#   relayhost = [127.0.0.1]:%s, mynetworks = 127.0.0.0/8,"
            " smtpd_relay_restrictions = permit_mynetworks, reject," % sp,
            "#   smtpd_recipient_restrictions = (empty), smtp_dns_support_level = disabled,"
            " mydestination = (empty), TLS off,",
            "#   inet_interfaces = 127.0.0.1, maillog_file (postlogd); all else default;"
            " smtpd listens on 127.0.0.1:%s, process_limit %d, no chroot" % (pp, int(idle or 0) + 200),
            "$(postconf -dh daemon_directory)/master -c $CONF -d",
            "%s 2>jaga.log   # ready at ' - jaga ready'" % (E("M_JAGA_CMD") or "jaga serve ... (not run)"),
            "# each run (PORT = %s sink, %s Postfix, %s jaga, %s tcp relay; C = %s):" % (
                sp, pp, jp, E("M_RELAY_PORT"), ", ".join(map(str, conc))),
            "smtp-source -s C -m N -l %s -f sender@src.example -t rcpt@bench.test -M src.example 127.0.0.1:PORT" % size,
            "# idle sessions (bench/idle_sessions.c):",
            "idle_sessions 127.0.0.1 PORT %s 127.1.0.1 20 600" % idle,
            "# reference relay (bench/tcp_relay.c):",
            "tcp_relay 127.0.0.1 %s 127.0.0.1 %s %s" % (E("M_RELAY_PORT"), sp, E("M_WORKERS", "2")),
            "```"]
    print("\n".join(out))


if __name__ == "__main__":
    main()
