"""Next-hop faults with a scripted fake next hop (issue area 3).

jaga is a before-queue proxy: it must never say 250 for a message the next
hop did not accept.  Every failure inside becomes a 4xx (or the next hop's
own 5xx) for the client.
"""

import os
import re
import shutil

import pytest

from wirelib import (FakeNextHop, free_port, make_message, make_tempdir, message_id,
                     split_first_header, try_transaction, crlf_to_lf, wait_until)

# Short next-hop timeouts (RFC 5321 §4.5.3.2 phases) so hangs end quickly.
SHORT_TIMEOUTS = {
    "next_hop_connect_timeout": "2s",
    "next_hop_greeting_timeout": "2s",
    "next_hop_command_timeout": "2s",
    "next_hop_data_init_timeout": "2s",
    "next_hop_data_block_timeout": "2s",
    "next_hop_data_done_timeout": "2s",
}


def tempfailed(t):
    """The client got a 4xx with a 4.x.x enhanced code and no 250 at the end."""
    assert not t.delivered, "250 for a message the next hop did not accept: %r" % t
    fours = [r for s, r in t.steps if 400 <= r.code < 500]
    assert fours, "expected a 4xx reply: %r" % t
    assert all(r.enh.startswith("4.") for r in fours), "4xx without 4.x.x: %r" % t
    return fours


def still_serves(j, sink):
    """After the fault, a normal transaction through a healthy jaga path
    still works (the daemon did not crash or wedge)."""
    assert j.alive(), "jaga exited"
    msg = make_message("after fault", to="bob@local.test")
    t = try_transaction(*j.addr(), "alice@sender.test", ["bob@local.test"], msg)
    return t


@pytest.fixture
def faulty(jaga_factory, fake_hop):
    """(jaga, fake) with jaga's next hop = the fake, short timeouts."""
    def make(lmtp=False, **attrs):
        f = fake_hop(lmtp=lmtp)
        for k, v in attrs.items():
            setattr(f, k, v)
        j = jaga_factory(next_hop=f.url, opts=SHORT_TIMEOUTS)
        return j, f
    return make


def test_next_hop_refuses_connection(jaga_factory):
    port = free_port("127.0.0.4")  # nothing listens there
    j = jaga_factory(next_hop="smtp://127.0.0.4:%d" % port, opts=SHORT_TIMEOUTS)
    t = try_transaction(*j.addr(), "alice@sender.test", ["bob@local.test"], make_message("refused"))
    tempfailed(t)
    assert j.wait_log(re.compile(r' nexthop error phase=(?:"[^"]*"|\S+) reason='))
    # again: the daemon keeps serving and answers the same way
    t2 = try_transaction(*j.addr(), "alice@sender.test", ["bob@local.test"], make_message("refused 2"))
    tempfailed(t2)


def test_next_hop_hangs_at_greeting(faulty):
    j, f = faulty(greeting=None)
    t = try_transaction(*j.addr(), "alice@sender.test", ["bob@local.test"], make_message("no greeting"))
    tempfailed(t)


def test_next_hop_421_greeting(faulty):
    j, f = faulty(greeting="421 4.3.2 fake.nexthop.test service not available")
    t = try_transaction(*j.addr(), "alice@sender.test", ["bob@local.test"], make_message("421 greeting"))
    tempfailed(t)
    assert not f.transactions


def test_next_hop_4xx_at_mail(faulty):
    j, f = faulty(mail_reply="451 4.3.0 try again later")
    t = try_transaction(*j.addr(), "alice@sender.test", ["bob@local.test"], make_message("4xx mail"))
    tempfailed(t)
    assert not f.transactions


def test_next_hop_4xx_at_rcpt_passed_through(faulty):
    j, f = faulty(rcpt_reply=lambda r: "450 4.2.0 <%s>: mailbox busy" % r.strip("<>"))
    t = try_transaction(*j.addr(), "alice@sender.test", ["bob@local.test"], make_message("4xx rcpt"))
    tempfailed(t)
    r = t.reply("rcpt")
    assert r is not None and r.code == 450 and r.enh == "4.2.0", t
    assert not f.transactions


def test_next_hop_partial_rcpt_refusal(faulty):
    """One recipient refused at the next hop's RCPT, the other accepted: the
    client hears the refusal for that recipient only."""
    def rcpt(r):
        return "550 5.1.1 <carol@local.test>: no such user" if "carol" in r else "250 2.1.5 Ok"
    j, f = faulty(rcpt_reply=rcpt)
    msg = make_message("partial rcpt")
    t = try_transaction(*j.addr(), "alice@sender.test", ["bob@local.test", "carol@local.test"], msg)
    rc = [r for s, r in t.steps if s == "rcpt"]
    assert rc[0].code == 250, t
    assert rc[1].code == 550 and rc[1].enh == "5.1.1", t
    assert t.delivered, t
    assert len(f.accepted()) == 1
    assert f.accepted()[0]["rcpts"] == ["<bob@local.test>"]


def test_next_hop_5xx_at_end_of_data(faulty):
    j, f = faulty(end_reply="554 5.7.1 content refused by policy")
    t = try_transaction(*j.addr(), "alice@sender.test", ["bob@local.test"], make_message("5xx end"))
    assert not t.delivered, t
    r = t.reply("end")
    assert r is not None, t
    # the next hop's permanent refusal, or a 4xx: never 250
    if r.code >= 500:
        assert r.code == 554 and r.enh == "5.7.1", r
    else:
        assert 400 <= r.code < 500 and r.enh.startswith("4."), r
    assert j.wait_log(re.compile(r" nexthop data code=554\b"))


def test_next_hop_4xx_at_end_of_data(faulty):
    j, f = faulty(end_reply="452 4.3.1 insufficient system storage")
    t = try_transaction(*j.addr(), "alice@sender.test", ["bob@local.test"], make_message("4xx end"))
    tempfailed(t)
    assert t.reply("end").code in (421, 451, 452), t


def test_next_hop_4xx_at_data_command(faulty):
    j, f = faulty(data_reply="451 4.3.0 not now")
    t = try_transaction(*j.addr(), "alice@sender.test", ["bob@local.test"], make_message("4xx data"))
    tempfailed(t)
    assert not f.transactions


def test_next_hop_hangs_after_dot(faulty):
    j, f = faulty(hang_after_dot=True)
    msg = make_message("hang after dot")
    t = try_transaction(*j.addr(), "alice@sender.test", ["bob@local.test"], msg, timeout=60)
    tempfailed(t)
    # the message did reach the hung next hop; jaga still must not say 250
    assert wait_until(lambda: f.transactions, timeout=5)
    assert j.wait_log(re.compile(r' nexthop error phase=(?:"[^"]*"|\S+) reason='))


def test_next_hop_drops_mid_data(faulty):
    j, f = faulty(drop_after_bytes=2000)
    body = "".join("line %05d of a long message that the next hop will not finish reading\r\n" % i
                   for i in range(2000))
    t = try_transaction(*j.addr(), "alice@sender.test", ["bob@local.test"],
                        make_message("drop mid data", body=body))
    tempfailed(t)
    assert not f.accepted()


def test_daemon_survives_faults(faulty, fake_hop, jaga_factory):
    """After a next hop dropped mid-DATA, jaga still serves a healthy path."""
    j, f = faulty(drop_after_bytes=100)
    t = try_transaction(*j.addr(), "alice@sender.test", ["bob@local.test"],
                        make_message("drop", body="x" * 70 + "\r\n" * 100))
    tempfailed(t)
    f.drop_after_bytes = None
    msg = make_message("after drop")
    t = try_transaction(*j.addr(), "alice@sender.test", ["bob@local.test"], msg)
    assert t.delivered, t
    assert any(message_id(msg).encode() in x["data"] for x in f.accepted())


# ------------------------------------------------------------------ LMTP

def test_lmtp_all_recipients_accepted(faulty):
    j, f = faulty(lmtp=True)
    msg = make_message("lmtp all ok")
    t = try_transaction(*j.addr(), "alice@sender.test", ["bob@local.test", "carol@local.test"], msg)
    assert t.delivered, t
    assert any(c.upper().startswith("LHLO ") for c in f.commands), f.commands
    assert not any(c.upper().startswith("EHLO ") for c in f.commands), f.commands
    acc = f.accepted()
    assert len(acc) == 1 and sorted(acc[0]["accepted"]) == ["<bob@local.test>", "<carol@local.test>"]


def test_lmtp_partial_acceptance(faulty):
    """LMTP accepts bob and refuses carol after the dot (RFC 2033 §4.2).
    jaga prefers a duplicate to a loss: it answers 451 4.x.x so the client
    retries, and logs which recipients failed."""
    def end(rcpt):
        if "carol" in rcpt:
            return "452 4.2.2 <carol@local.test>: mailbox full"
        return "250 2.0.0 <%s> delivered" % rcpt.strip("<>")
    j, f = faulty(lmtp=True, lmtp_rcpt_end=end)
    t = try_transaction(*j.addr(), "alice@sender.test", ["bob@local.test", "carol@local.test"],
                        make_message("lmtp partial"))
    r = t.reply("end")
    assert r is not None, t
    assert r.code == 451 and r.enh.startswith("4."), "partial LMTP success: want 451 4.x.x, got %s" % r
    # one nexthop data line per LMTP recipient (docs/logging.md)
    assert j.wait_log(re.compile(r" nexthop data .*code=452\b"))
    assert j.wait_log(re.compile(r" nexthop data .*code=250\b"))
    # and a line naming the failed recipient with its code
    line = j.wait_log(re.compile(r" smtp \S+ .*<carol@local\.test>.*code=452\b|"
                                 r" \S+ \S+ .*code=452\b.*<carol@local\.test>"))
    assert line, "no log line names the failed LMTP recipient <carol@local.test>"


def test_lmtp_all_refused_permanently(faulty):
    j, f = faulty(lmtp=True, lmtp_rcpt_end=lambda r: "550 5.1.1 %s: no such user" % r)
    t = try_transaction(*j.addr(), "alice@sender.test", ["bob@local.test", "carol@local.test"],
                        make_message("lmtp all refused"))
    r = t.reply("end")
    assert r is not None and not t.delivered, t
    assert r.code >= 400, r


def test_lmtp_over_unix_socket(jaga_factory):
    d = make_tempdir("jaga-lmtp-")
    f = FakeNextHop(lmtp=True, unix_path=os.path.join(d, "lmtp.sock"))
    try:
        j = jaga_factory(next_hop=f.url, opts=SHORT_TIMEOUTS)
        msg = make_message("lmtp unix")
        t = try_transaction(*j.addr(), "alice@sender.test", ["bob@local.test"], msg)
        assert t.delivered, t
        assert any(c.upper().startswith("LHLO ") for c in f.commands), f.commands
        assert len(f.accepted()) == 1 and message_id(msg).encode() in f.accepted()[0]["data"]
    finally:
        f.close()
        shutil.rmtree(d, ignore_errors=True)


def test_lmtp_unix_socket_missing_tempfails(jaga_factory):
    """lmtp:unix:/path is accepted at startup (the socket need not exist yet);
    a transaction then tempfails because nothing listens."""
    sock = "/tmp/jaga-wire-nolmtp-%d.sock" % os.getpid()
    j = jaga_factory(next_hop="lmtp:unix:" + sock, opts=SHORT_TIMEOUTS)
    t = try_transaction(*j.addr(), "alice@sender.test", ["bob@local.test"], make_message("lmtp unix"))
    tempfailed(t)


# ------------------------------------------------------------------ maildir

def test_maildir_next_hop_writes_one_file(jaga_factory):
    d = make_tempdir("jaga-maildir-")
    try:
        j = jaga_factory(next_hop="maildir:" + d)
        msg = make_message("maildir one file", body="Line one.\r\n.dotted\r\nLine three.\r\n")
        t = try_transaction(*j.addr(), "alice@sender.test", ["bob@local.test"], msg)
        assert t.delivered, t
        new = os.path.join(d, "new")
        files = os.listdir(new)
        assert len(files) == 1, files
        assert not os.listdir(os.path.join(d, "tmp")), "leftover in tmp/"
        data = open(os.path.join(new, files[0]), "rb").read()
        nl = b"\r\n" if b"\r\n" in data else b"\n"
        first, after = split_first_header(data, nl)
        assert first.startswith(b"Received:"), first
        assert after in (msg, crlf_to_lf(msg)), "maildir file differs from the message: %r" % data
        # a second message makes a second, distinct file
        t = try_transaction(*j.addr(), "alice@sender.test", ["bob@local.test"], make_message("maildir 2"))
        assert t.delivered, t
        assert len(os.listdir(new)) == 2
    finally:
        shutil.rmtree(d, ignore_errors=True)


def test_maildir_unwritable_tempfails(jaga_factory):
    d = make_tempdir("jaga-maildir-ro-")
    try:
        # a regular file where new/ must be: delivery cannot succeed
        for sub in ("tmp", "cur"):
            os.mkdir(os.path.join(d, sub))
        open(os.path.join(d, "new"), "w").close()
        j = jaga_factory(next_hop="maildir:" + d)
        t = try_transaction(*j.addr(), "alice@sender.test", ["bob@local.test"], make_message("maildir broken"))
        tempfailed(t)
    finally:
        shutil.rmtree(d, ignore_errors=True)
