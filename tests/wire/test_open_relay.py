"""Never an open relay (issue area 4).

Inbound role, untrusted client (127.0.0.5), local domain local.test, next
hop = the real Postfix sink (which would happily deliver evil.test: jaga
is the only thing standing between the client and a relay).
"""

import base64
import re

import pytest

from conftest import PASSWORD, TRUSTED_IP, UNTRUSTED_IP, USER
from wirelib import Jaga, SmtpClient, free_port, make_message, message_id, wait_until

REFUSED = [
    "<user@evil.test>",
    "<user%evil.test@local.test>",
    "<evil.test!user@local.test>",
    '<"user@evil.test"@local.test>',
    '<"user%evil.test"@local.test>',
    "<@local.test:user@evil.test>",
    "<user@[127.0.0.1]>",
    "<user@local.test.>",
    "<user@local.test.evil.test>",
    "<USER@EVIL.TEST>",
]

SYNTAX_ERRORS = [
    "<user@evil.test@local.test>",
]


@pytest.fixture(scope="module")
def relay_jaga(sink, jaga_bin):
    j = Jaga(listeners={"inbound": ("127.0.0.1", free_port())},
             next_hop="smtp://%s:%d" % (sink.addr, sink.port),
             opts={"trusted_networks": TRUSTED_IP + "/32", "max_errors": "50"})
    j.start()
    yield j
    j.stop()


def sink_recipients_of(sink, mid):
    """Recipients Postfix delivered the message with this Message-ID to."""
    m = sink.wait_log(r"(\w+): message-id=%s" % re.escape(mid))
    assert m, "sink never saw %s" % mid
    qid = m.group(1)
    wait_until(lambda: re.search(r"%s: removed" % qid, sink.log_text()), timeout=20)
    return re.findall(r"%s: to=<([^>]*)>" % qid, sink.log_text())


def session(j, src=UNTRUSTED_IP):
    c = SmtpClient(*j.addr(), src=src)
    assert c.greeting().code == 220
    assert c.ehlo("client.test").code == 250
    return c


@pytest.mark.parametrize("rcpt", REFUSED)
def test_relay_attempt_refused(relay_jaga, sink, rcpt):
    msg = make_message("relay attempt %s" % rcpt, to="bob@local.test")
    mid = message_id(msg)
    with session(relay_jaga) as c:
        assert c.cmd("MAIL FROM:<spammer@sender.test>").code == 250
        r = c.cmd("RCPT TO:" + rcpt)
        assert r.code in (550, 554), "RCPT TO:%s from an untrusted client: %s" % (rcpt, r)
        assert r.enh == "5.7.1", "RCPT TO:%s: want enhanced code 5.7.1, got %s" % (rcpt, r)
        # a legitimate recipient in the same transaction still works, and
        # the refused one must not ride along
        assert c.cmd("RCPT TO:<bob@local.test>").code == 250
        r1, r2 = c.data(msg)
        assert r2 is not None and r2.code == 250, (r1, r2)
        c.quit()
    assert sink_recipients_of(sink, mid) == ["bob@local.test"]


@pytest.mark.parametrize("rcpt", SYNTAX_ERRORS)
def test_relay_syntax_errors_refused(relay_jaga, rcpt):
    with session(relay_jaga) as c:
        assert c.cmd("MAIL FROM:<spammer@sender.test>").code == 250
        r = c.cmd("RCPT TO:" + rcpt)
        assert 500 <= r.code < 600, r
        assert r.enh.startswith("5."), r
        r = c.cmd("DATA")
        assert r.code >= 500, "DATA with no accepted recipient: %s" % r


def test_uppercase_local_domain_accepted(relay_jaga, sink):
    msg = make_message("uppercase domain", to="user@LOCAL.TEST")
    mid = message_id(msg)
    with session(relay_jaga) as c:
        assert c.cmd("MAIL FROM:<alice@sender.test>").code == 250
        r = c.cmd("RCPT TO:<user@LOCAL.TEST>")
        assert r.code == 250, r
        r1, r2 = c.data(msg)
        assert r2.code == 250, r2
        c.quit()
    assert [x.lower() for x in sink_recipients_of(sink, mid)] == ["user@local.test"]
    assert len(sink.wait_message(mid, "user")) == 1


def test_source_route_to_local_domain_is_dropped(relay_jaga, sink):
    """RFC 5321 §3.6.1 / App. C: the route is ignored; the next hop gets
    <user@local.test>."""
    msg = make_message("source route", to="user@local.test")
    mid = message_id(msg)
    with session(relay_jaga) as c:
        assert c.cmd("MAIL FROM:<alice@sender.test>").code == 250
        r = c.cmd("RCPT TO:<@evil.test:user@local.test>")
        assert r.code == 250, r
        r1, r2 = c.data(msg)
        assert r2.code == 250, r2
        c.quit()
    assert sink_recipients_of(sink, mid) == ["user@local.test"]
    assert len(sink.wait_message(mid, "user")) == 1
    assert relay_jaga.wait_log(re.compile(r" smtp rcpt to=<user@local\.test> code=250\b"))


def test_trusted_network_may_relay(relay_jaga, sink):
    msg = make_message("trusted relay", to="relay@evil.test")
    mid = message_id(msg)
    with session(relay_jaga, src=TRUSTED_IP) as c:
        assert c.cmd("MAIL FROM:<alice@local.test>").code == 250
        r = c.cmd("RCPT TO:<relay@evil.test>")
        assert r.code == 250, "trusted client %s must be able to relay: %s" % (TRUSTED_IP, r)
        r1, r2 = c.data(msg)
        assert r2.code == 250, r2
        c.quit()
    assert sink_recipients_of(sink, mid) == ["relay@evil.test"]
    assert len(sink.wait_message(mid, "relay", domain="evil.test")) == 1


def test_neighbour_of_trusted_ip_is_not_trusted(relay_jaga):
    with session(relay_jaga, src="127.0.0.8") as c:
        assert c.cmd("MAIL FROM:<alice@local.test>").code == 250
        r = c.cmd("RCPT TO:<relay@evil.test>")
        assert r.code in (550, 554) and r.enh == "5.7.1", r


def test_authenticated_submission_may_relay(jaga, sink):
    msg = make_message("auth relay", frm="app1@local.test", to="relay@evil.test")
    mid = message_id(msg)
    with SmtpClient(*jaga.addr("submission"), src=UNTRUSTED_IP) as c:
        c.greeting()
        c.ehlo()
        assert c.starttls().code == 220
        c.ehlo()
        r = c.cmd("AUTH PLAIN " + base64.b64encode(("\0%s\0%s" % (USER, PASSWORD)).encode()).decode())
        assert r.code == 235, r
        assert c.cmd("MAIL FROM:<app1@local.test>").code == 250
        r = c.cmd("RCPT TO:<relay@evil.test>")
        assert r.code == 250, r
        r1, r2 = c.data(msg)
        assert r2.code == 250, r2
        c.quit()
    assert sink_recipients_of(sink, mid) == ["relay@evil.test"]


def test_default_configuration_trusts_no_one(jaga_bin, sink):
    """Without trusted_networks, even a loopback client may not relay."""
    j = Jaga(listeners={"inbound": ("127.0.0.1", free_port())},
             next_hop="smtp://%s:%d" % (sink.addr, sink.port))
    j.start()
    try:
        for src in ("127.0.0.1", UNTRUSTED_IP):
            with session(j, src=src) as c:
                assert c.cmd("MAIL FROM:<alice@local.test>").code == 250
                r = c.cmd("RCPT TO:<user@evil.test>")
                assert r.code in (550, 554) and r.enh == "5.7.1", (src, r)
    finally:
        j.stop()
