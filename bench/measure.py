#!/usr/bin/python3
"""Time one smtp-source run and the deliveries it causes at smtp-sink.

usage: measure.py SINK_OUT N TIMEOUT -- smtp-source ARGS...

SINK_OUT is the stdout file of `smtp-sink -c`, whose running counters look
like "sess=12 quit=12 mesg=34\\r".  The run starts smtp-source, records when
it exits (every message accepted: t_accept), then waits until the sink's
message counter has grown by N (every message delivered: t_deliver).
Prints one line of JSON: rc, n, accept_s, deliver_s, delivered, stderr.
Benchmark helper, not part of jaga.
"""
import json
import os
import re
import subprocess
import sys
import time

MESG = re.compile(rb"mesg=(\d+)")


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


def main():
    sink_out, n, timeout = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    cmd = sys.argv[sys.argv.index("--") + 1:]
    base = sink_count(sink_out)
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
    print(json.dumps({"rc": rc, "n": n, "accept_s": t_accept, "deliver_s": t_deliver,
                      "delivered": delivered, "stderr": err[-400:]}))


if __name__ == "__main__":
    main()
