"""Per-identity limits and automatic suspension through the real daemon
(issue 3 §3-4): exact counts, 550 5.7.1 on suspension, refused MAIL while
suspended, `jaga suspend list|show|lift`, and a suspension that survives a
restart."""

import json
import re

import idents
from idents import add_identity, jaga_cli

NAME = "burst@local.test"
PW = "Burst-Pass-1"


def run(jaga_bin, state_dir, *args, stdin=b""):
    return jaga_cli(jaga_bin, state_dir, *args, stdin=stdin)


def add_user(jaga_bin, state_dir, limit):
    add_identity(jaga_bin, state_dir, NAME, PW, "--limit", limit)


def login(gateway):
    return idents.login(gateway, NAME, PW)


def send_one(c, i):
    return idents.send_one(c, i, NAME, "burst")


def gateway_on(jaga_factory, hop, state_dir):
    return jaga_factory(roles=("submission",), next_hop=hop.url, state_dir=state_dir)


def test_suspend_at_exact_limit_list_restart_lift(jaga_bin, jaga_factory, fake_hop, state_dir):
    add_user(jaga_bin, state_dir, "messages=20/1m action=suspend")
    hop = fake_hop()
    g = gateway_on(jaga_factory, hop, state_dir)
    c = login(g)
    replies = [send_one(c, i) for i in range(30)]
    assert all(r.code == 250 for r in replies[:20]), replies[:20]
    assert replies[20].code == 550 and replies[20].enh == "5.7.1", replies[20]
    for r in replies[21:]:
        assert r.code == 550 and r.enh == "5.7.1" and "is suspended" in r.text, r
    assert "Account %s is suspended (rule messages=20/60s" % NAME in replies[21].text
    c.quit()
    assert len(hop.transactions) == 20
    assert g.wait_log(re.compile(r" smtp limit key=id:burst@local\.test thing=messages "
                                 r"window=60 limit=20 count=20 action=suspend"))
    assert g.wait_log(re.compile(r" smtp suspend user=burst@local\.test rule="))
    assert g.log_text().count(" smtp suspend ") == 1
    assert "Burst-Pass-1" not in g.log_text()

    rc, out, err = run(jaga_bin, state_dir, "suspend", "list")
    assert rc == 0 and NAME in out, (out, err)
    rc, out, err = run(jaga_bin, state_dir, "suspend", "show", NAME, "--json")
    assert rc == 0, err
    j = json.loads(out)
    assert j["active"] and j["evidence"]["count"] == 20 and j["evidence"]["limit"] == 20
    assert j["evidence"]["client_ips"] == ["127.0.0.1"]
    assert j["evidence"]["rcpt_domains"] == ["remote.test"]
    # the recent subjects, oldest first, ending with the one that crossed
    assert j["evidence"]["subjects"] == ["burst %d" % i for i in range(16, 21)]
    rc, out, _ = run(jaga_bin, state_dir, "suspend", "show", NAME)
    assert "jaga suspend lift %s" % NAME in out

    g.stop()
    g2 = gateway_on(jaga_factory, hop, state_dir)
    c = login(g2)           # AUTH still answers
    r = c.cmd("MAIL FROM:<%s>" % NAME)
    assert r.code == 550 and r.enh == "5.7.1" and "suspended" in r.text, r
    rc, out, err = run(jaga_bin, state_dir, "suspend", "lift", NAME)
    assert rc == 0, err
    r = c.cmd("MAIL FROM:<%s>" % NAME)
    assert r.code == 250, r
    c.cmd("RSET")
    c.quit()
    rc, out, _ = run(jaga_bin, state_dir, "suspend", "list", "--json")
    assert rc == 0 and json.loads(out) == []


def test_lift_requires_password_change(jaga_bin, jaga_factory, fake_hop, state_dir):
    add_user(jaga_bin, state_dir, "messages=1/1h action=suspend")
    hop = fake_hop()
    g = gateway_on(jaga_factory, hop, state_dir)
    c = login(g)
    assert send_one(c, 0).code == 250
    assert send_one(c, 1).code == 550
    rc, out, err = run(jaga_bin, state_dir, "suspend", "lift", NAME, "--require-password-change")
    assert rc == 0 and "passwd" in out, err
    assert c.cmd("MAIL FROM:<%s>" % NAME).code == 550
    rc, out, err = run(jaga_bin, state_dir, "user", "passwd", NAME, "--password-stdin",
                       stdin=b"Burst-Pass-1\n")
    assert rc == 0, err
    # lifted now (the counter is still full, so a message is refused again)
    r = c.cmd("MAIL FROM:<%s>" % NAME)
    assert r.code == 250, r
    c.quit()


def test_defer_limit_is_451_without_suspension(jaga_bin, jaga_factory, fake_hop, state_dir):
    add_user(jaga_bin, state_dir, "messages=3/1h action=defer")
    hop = fake_hop()
    g = gateway_on(jaga_factory, hop, state_dir)
    c = login(g)
    replies = [send_one(c, i) for i in range(5)]
    assert [r.code for r in replies] == [250, 250, 250, 451, 451], replies
    assert replies[3].enh == "4.7.1"
    c.quit()
    assert len(hop.transactions) == 3
    rc, out, _ = run(jaga_bin, state_dir, "suspend", "list")
    assert rc == 0 and out == ""
    assert " smtp suspend " not in g.log_text()


def test_suspend_cli_bad_input(jaga_bin, state_dir):
    rc, _, err = run(jaga_bin, state_dir, "suspend", "show", "ghost")
    assert rc == 1 and "never suspended" in err
    rc, _, err = run(jaga_bin, state_dir, "suspend", "lift", "ghost")
    assert rc == 1 and "not suspended" in err
    rc, _, _ = run(jaga_bin, state_dir, "suspend", "frobnicate")
    assert rc == 2


def test_transaction_in_flight_gets_4xx(jaga_bin, jaga_factory, fake_hop, state_dir):
    """Session A is inside DATA when session B bursts past the limit: A's
    end of data is answered 451 4.7.1 (the client keeps the message) and
    the next hop never sees it."""
    add_user(jaga_bin, state_dir, "messages=3/1h action=suspend")
    hop = fake_hop()
    g = gateway_on(jaga_factory, hop, state_dir)
    a = login(g)
    assert a.cmd("MAIL FROM:<%s>" % NAME).code == 250
    assert a.cmd("RCPT TO:<late@remote.test>").code == 250
    assert a.cmd("DATA").code == 354
    a.send(b"From: %s\r\nSubject: in flight\r\n\r\nwaiting\r\n" % NAME.encode())
    b = login(g)
    assert [send_one(b, i).code for i in range(4)] == [250, 250, 250, 550]
    b.quit()
    a.send(b".\r\n")
    r = a.reply()
    assert r.code == 451 and r.enh == "4.7.1", r
    assert "suspended during this transaction" in r.text, r
    a.quit()
    assert len(hop.transactions) == 3
    assert not any(b"in flight" in t["data"] for t in hop.transactions)
