#!/usr/bin/python3
"""Memory of a process tree: procmem.py PID [NAME]

Sums VmRSS (/proc/PID/status) and Pss (/proc/PID/smaps_rollup) over PID and
all its descendants (threads are counted once, as part of their process).
With NAME, only processes whose comm equals NAME are summed (e.g. smtpd).
Prints one line of JSON: procs, rss_kb, pss_kb.  RSS counts shared pages
(libraries) once per process; PSS splits them, so PSS is the honest total
for many forked processes.  Benchmark helper, not part of jaga.
"""
import json
import os
import sys


def children_map():
    kids = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                stat = f.read()
        except OSError:
            continue
        # comm may hold spaces or parentheses: split after the last ')'.
        ppid = int(stat[stat.rindex(")") + 2:].split()[1])
        kids.setdefault(ppid, []).append(int(d))
    return kids


def field_kb(path, name):
    try:
        with open(path) as f:
            for line in f:
                if line.startswith(name + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def main():
    root, only = int(sys.argv[1]), (sys.argv[2] if len(sys.argv) > 2 else None)
    kids, todo, procs, rss, pss = children_map(), [root], 0, 0, 0
    while todo:
        pid = todo.pop()
        todo.extend(kids.get(pid, []))
        if only:
            try:
                with open("/proc/%d/comm" % pid) as f:
                    if f.read().strip() != only:
                        continue
            except OSError:
                continue
        procs += 1
        rss += field_kb("/proc/%d/status" % pid, "VmRSS")
        pss += field_kb("/proc/%d/smaps_rollup" % pid, "Pss")
    print(json.dumps({"procs": procs, "rss_kb": rss, "pss_kb": pss}))


if __name__ == "__main__":
    main()
