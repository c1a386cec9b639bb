"""Bad and hostile input (issue area 5).  After each case the daemon must
keep serving other clients (check_serves runs a normal transaction)."""

import re
import socket
import time

import pytest

from wirelib import (ConnectionClosed, SmtpClient, check_serves, dot_stuff, make_message, message_id,
                     wait_until)


def open_session(j, src=None, ehlo=True):
    c = SmtpClient(*j.addr(), src=src)
    g = c.greeting()
    assert g.code == 220, g
    if ehlo:
        assert c.ehlo("client.test").code == 250
    return c


def read_until_close(c, limit=10):
    """Read replies until the server closes; returns them."""
    out = []
    for _ in range(limit):
        try:
            out.append(c.reply())
        except (ConnectionClosed, OSError):
            return out
    return out


def assert_5xx(r, what):
    assert 500 <= r.code < 600, "%s: want 5xx, got %s" % (what, r)
    assert r.enh.startswith("5."), "%s: want a 5.x.x enhanced code, got %s" % (what, r)


def never_arrived(sink, mid, after_mid):
    """after_mid was sent after mid on the same path; once it arrived, the
    sink's log shows whether mid was ever received."""
    assert sink.wait_log(re.escape(after_mid)), "the follow-up message never arrived"
    assert mid not in sink.log_text(), "message %s reached the next hop" % mid


# ------------------------------------------------------------ long lines

def test_command_line_too_long(jaga, sink):
    with open_session(jaga) as c:
        r = c.cmd("NOOP " + "x" * 600)
        assert_5xx(r, "command line of 606 octets")
        r = c.cmd("MAIL FROM:<" + "a" * 40 + "@" + ("b" * 60 + ".") * 8 + "test>")
        assert_5xx(r, "MAIL line over 512 octets")
        # the session goes on
        r = c.cmd("NOOP")
        assert r.code == 250, r
        assert c.cmd("MAIL FROM:<alice@sender.test>").code == 250
    check_serves(jaga, sink)


def test_huge_line_without_newline_is_bounded(jaga, sink):
    """1 MB without a line end: jaga must answer 5xx and/or close, not buffer
    forever, and stay up."""
    c = SmtpClient(*jaga.addr(), timeout=30)
    with c:
        c.greeting()
        try:
            c.send(b"NOOP " + b"y" * (1 << 20))
        except OSError:
            pass  # closed under us: fine
        replies = []
        try:
            c.send(b"\r\n")
            replies = read_until_close(c, limit=3)
        except OSError:
            pass
        for r in replies:
            assert r.code >= 400, "a reply to a 1 MB line must be an error: %s" % r
    check_serves(jaga, sink)


def test_data_line_too_long_refused_and_not_delivered(jaga, sink):
    body = "short line\r\n" + "z" * 1200 + "\r\nafter\r\n"
    msg = make_message("long data line", body=body)
    mid = message_id(msg)
    with open_session(jaga) as c:
        assert c.cmd("MAIL FROM:<alice@sender.test>").code == 250
        assert c.cmd("RCPT TO:<bob@local.test>").code == 250
        r1, r2 = c.data(msg)
        assert r1.code == 354
        assert_5xx(r2, "text line of 1202 octets")
        assert r2.enh[:4] in ("5.5.", "5.6."), "want 5.5.x / 5.6.x, got %s" % r2
        # same session, a good message afterwards
        follow = make_message("after long line")
        assert c.cmd("MAIL FROM:<alice@sender.test>").code == 250
        assert c.cmd("RCPT TO:<bob@local.test>").code == 250
        r1, r2 = c.data(follow)
        assert r2.code == 250, r2
    never_arrived(sink, mid, message_id(follow))


# ------------------------------------------------------------ bad bytes

@pytest.mark.parametrize("line", [
    b"NOOP a\x00b",
    b"MAIL FROM:<al\x00ice@sender.test>",
    b"HE\x00LO client.test",
], ids=["noop", "mail", "verb"])
def test_nul_in_command(jaga, sink, line):
    with open_session(jaga) as c:
        c.send(line + b"\r\n")
        r = c.reply()
        assert_5xx(r, "NUL in %r" % line)
        assert c.cmd("NOOP").code == 250
    check_serves(jaga, sink)


@pytest.mark.parametrize("line", [
    b"NOOP caf\xc3\xa9",
    b"M\xc3\x84IL FROM:<alice@sender.test>",
    b"\xff\xfe\xfd",
    b"MAIL FROM:<\xff\xfe@sender.test>",
], ids=["noop-utf8", "verb-utf8", "garbage", "bad-utf8-path"])
def test_non_ascii_in_command(jaga, sink, line):
    with open_session(jaga) as c:
        c.send(line + b"\r\n")
        r = c.reply()
        assert_5xx(r, "non-ASCII in %r" % line)
        assert c.cmd("NOOP").code == 250
    check_serves(jaga, sink)


def test_unknown_commands_then_disconnect(jaga_factory, sink):
    j = jaga_factory(opts={"max_errors": "3"})
    with open_session(j) as c:
        replies = []
        for i in range(6):
            try:
                replies.append(c.cmd("XFOO%d bar" % i))
            except (ConnectionClosed, OSError):
                break
            if replies[-1].code == 421:
                break
        assert replies[0].code == 500 and replies[0].enh == "5.5.2", replies
        assert replies[-1].code == 421 and replies[-1].enh == "4.7.0", \
            "want 421 4.7.0 after max_errors=3: %r" % replies
        assert len(replies) <= 4, "too many errors tolerated: %r" % replies
        assert c.is_closed(), "connection must be closed after 421"
    assert j.wait_log(re.compile(r" smtp error .*code=500\b"))
    check_serves(j, sink)


# ------------------------------------------------------------ size

def test_size_parameter_over_limit(jaga_factory, sink):
    j = jaga_factory(opts={"message_size_limit": "100k"})
    with open_session(j) as c:
        r = c.cmd("MAIL FROM:<alice@sender.test> SIZE=500000")
        assert r.code == 552 and r.enh == "5.3.4", r
        r = c.cmd("MAIL FROM:<alice@sender.test> SIZE=50000")
        assert r.code == 250, r
    check_serves(j, sink)


def test_oversized_data_refused_at_end(jaga_factory, sink):
    j = jaga_factory(opts={"message_size_limit": "100k"})
    body = "".join("%06d oversized body line padding padding padding padding padding\r\n" % i
                   for i in range(3000))  # ~200 kB
    msg = make_message("oversized", body=body)
    mid = message_id(msg)
    with open_session(j) as c:
        assert c.cmd("MAIL FROM:<alice@sender.test>").code == 250
        assert c.cmd("RCPT TO:<bob@local.test>").code == 250
        r1, r2 = c.data(msg)
        assert r1.code == 354
        assert r2.code == 552 and r2.enh == "5.3.4", r2
        follow = make_message("after oversized")
        assert c.cmd("MAIL FROM:<alice@sender.test>").code == 250
        assert c.cmd("RCPT TO:<bob@local.test>").code == 250
        r1, r2 = c.data(follow)
        assert r2.code == 250, r2
    never_arrived(sink, mid, message_id(follow))


# ------------------------------------------------------------ recipients, sessions

def test_too_many_recipients(jaga_factory, sink):
    j = jaga_factory(opts={"max_recipients": "100"})
    msg = make_message("hundred rcpts")
    with open_session(j) as c:
        assert c.cmd("MAIL FROM:<alice@sender.test>").code == 250
        c.send(b"".join(b"RCPT TO:<bob@local.test>\r\n" for _ in range(101)))
        rs = c.replies(101)
        assert all(r.code == 250 for r in rs[:100]), [str(r) for r in rs[:100] if r.code != 250][:3]
        assert rs[100].code == 452 and rs[100].enh == "4.5.3", rs[100]
        r1, r2 = c.data(msg)
        assert r2.code == 250, r2
    assert len(sink.wait_message(message_id(msg), "bob")) == 1


def test_max_sessions_total(jaga_factory, sink):
    j = jaga_factory(opts={"max_sessions": "2"})
    a = open_session(j, src="127.0.0.5")
    b = open_session(j, src="127.0.0.6")
    try:
        c = SmtpClient(*j.addr(), src="127.0.0.7")
        with c:
            r = c.reply()
            assert r.code == 421 and r.enh == "4.7.0", r
            assert c.is_closed()
        assert j.wait_log(re.compile(r" smtp refuse client=127\.0\.0\.7 code=421 enh=4\.7\.0"))
    finally:
        a.quit()
        b.quit()
    # slots are given back
    wait_until(lambda: j.wait_log(re.compile(r" smtp disconnect "), timeout=0.1), timeout=10)
    check_serves(j, sink, src="127.0.0.7")


def test_max_sessions_per_ip(jaga_factory, sink):
    j = jaga_factory(opts={"max_sessions_per_ip": "2"})
    a = open_session(j, src="127.0.0.5")
    b = open_session(j, src="127.0.0.5")
    try:
        with SmtpClient(*j.addr(), src="127.0.0.5") as c:
            r = c.reply()
            assert r.code == 421 and r.enh == "4.7.0", r
            assert c.is_closed()
        # another address is not affected
        with SmtpClient(*j.addr(), src="127.0.0.6") as c:
            assert c.reply().code == 220
        check_serves(j, sink, src="127.0.0.6")
    finally:
        a.quit()
        b.quit()


# ------------------------------------------------------------ timeouts, greeting

def test_command_timeout(jaga_factory, sink):
    j = jaga_factory(opts={"command_timeout": "1s"})
    with open_session(j) as c:
        t0 = time.monotonic()
        c.sock.settimeout(30)
        r = c.reply()
        assert r.code == 421 and r.enh == "4.4.2", r
        assert c.is_closed()
        assert time.monotonic() - t0 < 25
    check_serves(j, sink)


def test_data_timeout_mid_message_delivers_nothing(jaga_factory, fake_hop, sink):
    """RFC 5321 §4.5.3.2: a client that stalls inside DATA is cut off after
    data_timeout, and the half message goes nowhere."""
    hop = fake_hop()
    j = jaga_factory(next_hop=hop.url,
                     opts={"data_timeout": "1s", "command_timeout": "30s"})
    with open_session(j) as c:
        assert c.cmd("MAIL FROM:<alice@sender.test>").code == 250
        assert c.cmd("RCPT TO:<bob@local.test>").code == 250
        assert c.cmd("DATA").code == 354
        c.send(b"Subject: stalled\r\n\r\nhalf a message")
        t0 = time.monotonic()
        c.sock.settimeout(30)
        r = c.reply()
        assert (r.code, r.enh) == (421, "4.4.2"), r
        assert time.monotonic() - t0 < 20, "data_timeout, not command_timeout"
        assert c.is_closed()
    assert hop.accepted() == [], "a stalled message must not be delivered"
    assert j.wait_log(re.compile(r" smtp error code=421 enh=4.4.2 reason=timeout"))


def test_talking_before_greeting(jaga_factory, sink):
    j = jaga_factory(opts={"greet_pause": "500ms"})
    c = SmtpClient(*j.addr())
    with c:
        c.send(b"EHLO early.test\r\n")
        r = c.reply()
        assert r.code == 554 and r.enh == "5.5.0", "client talked first: want 554 5.5.0, got %s" % r
        assert c.is_closed()
    assert j.wait_log(re.compile(r" smtp refuse .*code=554\b"))
    # a patient client is served
    check_serves(j, sink)


# ------------------------------------------------------------ pipelining (RFC 2920)

def test_pipelining_after_ehlo_refused(jaga, sink):
    c = SmtpClient(*jaga.addr())
    with c:
        c.greeting()
        c.send(b"EHLO client.test\r\nMAIL FROM:<alice@sender.test>\r\n")
        replies = read_until_close(c)
        assert replies, "no reply"
        codes = [r.code for r in replies]
        assert 554 in codes, "want 554 5.5.0 for input after EHLO: %r" % replies
        r554 = replies[codes.index(554)]
        assert r554.enh == "5.5.0", r554
        assert not any(r.code == 250 and r.enh == "2.1.0" for r in replies), "MAIL was executed: %r" % replies
        assert replies[-1].code == 554, "the session must end after the sync error: %r" % replies
    check_serves(jaga, sink)


def test_pipelining_after_data_refused(jaga, sink):
    msg = make_message("pipelined into data")
    mid = message_id(msg)
    c = SmtpClient(*jaga.addr())
    with c:
        c.greeting()
        c.ehlo()
        c.send(b"MAIL FROM:<alice@sender.test>\r\nRCPT TO:<bob@local.test>\r\nDATA\r\n" + dot_stuff(msg) + b".\r\n")
        replies = read_until_close(c)
        codes = [r.code for r in replies]
        assert codes[:2] == [250, 250], replies
        assert 354 not in codes, "354 although the message text came before it: %r" % replies
        assert codes[2] == 554 and replies[2].enh == "5.5.0", replies
        assert len(replies) == 3, "connection must close after the sync error: %r" % replies
    check_serves(jaga, sink)
    assert mid not in sink.log_text()


def test_pipelining_after_helo_refused(jaga, sink):
    """Exim 0300: after HELO no PIPELINING was advertised, so a client that
    sends MAIL and RCPT in one go is out of sync (RFC 2920 §3.1)."""
    c = SmtpClient(*jaga.addr())
    with c:
        c.greeting()
        assert c.cmd("HELO client.test").code == 250
        c.send(b"MAIL FROM:<alice@sender.test>\r\nRCPT TO:<bob@local.test>\r\n")
        replies = read_until_close(c)
        assert replies and replies[0].code == 554 and replies[0].enh == "5.5.0", replies
        assert len(replies) == 1, "connection must close after the sync error: %r" % replies
    check_serves(jaga, sink)


def test_disconnect_before_greeting(jaga_factory, sink):
    """Exim 0300: a client that leaves during greet_pause does no harm."""
    j = jaga_factory(opts={"greet_pause": "500ms"})
    for _ in range(5):
        s = socket.create_connection(j.addr())
        s.close()
    check_serves(j, sink)


def test_rset_quit_pipelined(jaga):
    with open_session(jaga) as c:
        c.send(b"RSET\r\nQUIT\r\n")
        r1, r2 = c.replies(2)
        assert r1.code == 250 and r2.code == 221, (r1, r2)


def test_pipelined_transaction_works(jaga, sink):
    msg = make_message("pipelined ok", to="alice@local.test, bob@local.test")
    mid = message_id(msg)
    with open_session(jaga) as c:
        assert "PIPELINING" in c.caps
        c.send(b"MAIL FROM:<alice@sender.test>\r\nRCPT TO:<alice@local.test>\r\n"
               b"RCPT TO:<bob@local.test>\r\nDATA\r\n")
        rs = c.replies(4)
        assert [r.code for r in rs] == [250, 250, 250, 354], rs
        c.send(dot_stuff(msg) + b".\r\nQUIT\r\n")
        r_end, r_quit = c.replies(2)
        assert r_end.code == 250 and r_quit.code == 221, (r_end, r_quit)
    assert len(sink.wait_message(mid, "alice")) == 1
    assert len(sink.wait_message(mid, "bob")) == 1
