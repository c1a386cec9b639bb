"""Concurrency (issue area 8): 50 clients at once, 5 messages each, every
message delivered exactly once at the real Postfix next hop."""

import re
import threading
import time
import uuid

from wirelib import ConnectionClosed, SmtpClient, make_message, wait_until

CLIENTS = 50
PER_CLIENT = 5


def client(j, i, run, results):
    src = "127.0.1.%d" % (i + 1)
    out = []
    try:
        with SmtpClient(*j.addr(), src=src, timeout=120) as c:
            assert c.greeting().code == 220
            assert c.ehlo("load%d.test" % i).code == 250
            for m in range(PER_CLIENT):
                subj = "load %s c%02d m%d" % (run, i, m)
                msg = make_message(subj, to="load@local.test")
                r = c.cmd("MAIL FROM:<load%d@sender.test>" % i)
                if r.code != 250:
                    out.append((subj, r))
                    continue
                r = c.cmd("RCPT TO:<load@local.test>")
                if r.code != 250:
                    out.append((subj, r))
                    c.cmd("RSET")
                    continue
                r1, r2 = c.data(msg)
                out.append((subj, r2 if r2 is not None else r1))
            c.cmd("QUIT")
    except (ConnectionClosed, OSError, AssertionError) as e:
        out.append(("client %d" % i, repr(e)))
    results[i] = out


def test_fifty_clients_five_messages_each(jaga_factory, sink):
    j = jaga_factory()
    run = uuid.uuid4().hex[:10]
    results = {}
    threads = [threading.Thread(target=client, args=(j, i, run, results)) for i in range(CLIENTS)]

    # start them together so the sessions really overlap
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=240)
    assert not any(t.is_alive() for t in threads), "clients still running after 240 s"
    bad = [(s, str(r)) for out in results.values() for s, r in out
           if not hasattr(r, "code") or r.code != 250]
    assert len(results) == CLIENTS
    assert not bad, "%d failed transactions, e.g. %r" % (len(bad), bad[:5])
    want = {"load %s c%02d m%d" % (run, i, m) for i in range(CLIENTS) for m in range(PER_CLIENT)}
    assert len(want) == CLIENTS * PER_CLIENT

    def delivered():
        return [m for m in sink.messages("load") if run.encode() in m]
    wait_until(lambda: len(delivered()) >= len(want), timeout=120, interval=0.5)
    time.sleep(1)  # a duplicate would show up right behind
    got = delivered()
    subjects = [re.search(rb"^Subject: (.*)$", m, re.M).group(1).decode() for m in got]
    dups = {s for s in subjects if subjects.count(s) > 1}
    missing = want - set(subjects)
    assert not missing, "%d messages lost, e.g. %r" % (len(missing), sorted(missing)[:5])
    assert not dups, "delivered more than once: %r" % sorted(dups)[:5]
    assert len(got) == len(want)
    assert j.alive()
