#!/usr/bin/python3
"""Time one smtp-source run and the deliveries it causes at smtp-sink.

usage: measure.py SINK_OUT N TIMEOUT [NAME=PID ...] -- smtp-source ARGS...

SINK_OUT is the stdout file of `smtp-sink -c`, whose running counters look
like "sess=12 quit=12 mesg=34\\r".  The run starts smtp-source, records when
it exits (every message accepted: t_accept), then waits until the sink's
message counter has grown by N (every message delivered: t_deliver).
Each NAME=PID names a process tree whose CPU time (user + system, children
included) is measured over the run; smtp-source's own is measured as
"source", and the whole machine's busy CPU (/proc/stat) as "machine".
Prints one line of JSON: rc, n, accept_s, deliver_s, delivered, cpu, stderr.
Benchmark helper, not part of jaga.
"""
import json
import os
import re
import resource
import subprocess
import sys
import time

MESG = re.compile(rb"mesg=(\d+)")
TICK = os.sysconf("SC_CLK_TCK")


def sink_count(path):
    """Last message counter written by smtp-sink -c (0 before the first)."""
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - 512))
            tail = f.read()
    except FileNotFoundError:
        return 0
    found = MESG.findall(tail)
    return int(found[-1]) if found else 0


def proc_table():
    """pid -> (ppid, cpu seconds of itself and its reaped children)."""
    out = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                st = f.read()
        except OSError:
            continue
        fl = st[st.rindex(")") + 2:].split()
        # fields after comm: state ppid ... utime(11) stime(12) cutime(13) cstime(14)
        out[int(d)] = (int(fl[1]), sum(int(x) for x in fl[11:15]) / TICK)
    return out


def tree_cpu(table, root):
    kids = {}
    for pid, (ppid, _) in table.items():
        kids.setdefault(ppid, []).append(pid)
    total, todo = 0.0, [root]
    while todo:
        pid = todo.pop()
        if pid in table:
            total += table[pid][1]
        todo.extend(kids.get(pid, []))
    return total


def machine_cpu():
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    idle = v[3] + v[4]
    return (sum(v) - idle) / TICK, sum(v) / TICK


def cpu_snapshot(trees):
    table = proc_table()
    snap = {name: tree_cpu(table, pid) for name, pid in trees.items()}
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    snap["source"] = ru.ru_utime + ru.ru_stime
    snap["machine"], snap["machine_total"] = machine_cpu()
    return snap


def main():
    sep = sys.argv.index("--")
    sink_out, n, timeout = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    trees = {a.split("=")[0]: int(a.split("=")[1]) for a in sys.argv[4:sep]}
    cmd = sys.argv[sep + 1:]
    base = sink_count(sink_out)
    cpu0 = cpu_snapshot(trees)
    t0 = time.monotonic()
    try:
        p = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                           timeout=timeout)
        rc, err = p.returncode, p.stderr.decode(errors="replace")
    except subprocess.TimeoutExpired as e:
        rc, err = -1, "timeout after %ss; %s" % (timeout, (e.stderr or b"").decode(errors="replace"))
    t_accept = time.monotonic() - t0
    delivered = sink_count(sink_out) - base
    while delivered < n and time.monotonic() - t0 < timeout:
        time.sleep(0.005)
        delivered = sink_count(sink_out) - base
    t_deliver = time.monotonic() - t0 if delivered >= n else None
    cpu1 = cpu_snapshot(trees)
    cpu = {k: round(cpu1[k] - cpu0[k], 3) for k in cpu1}
    print(json.dumps({"rc": rc, "n": n, "accept_s": t_accept, "deliver_s": t_deliver,
                      "delivered": delivered, "cpu": cpu, "stderr": err[-400:]}))


if __name__ == "__main__":
    main()
