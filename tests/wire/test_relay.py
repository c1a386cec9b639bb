"""Relay through jaga to a real Postfix next hop (issue area 1)."""

import re
import shutil
import subprocess
import time

import pytest

from conftest import PASSWORD, USER
from wirelib import (SmtpClient, crlf_to_lf, make_message, message_id, send_mail,
                     split_first_header, strip_postfix_delivery_headers)

BODY = ("First line.\r\n"
        ".a line that starts with a dot (dot-stuffed on the wire)\r\n"
        "..two dots\r\n"
        "trailing blanks and a tab \t \r\n"
        "\r\n"
        "UTF-8 body: Sch\u00f6ne Gr\u00fc\u00dfe, \u0436\u0430\u0433\u0430\r\n"
        + "x" * 998 + "\r\n"
        "last line\r\n")


def test_message_arrives_byte_exact_with_one_received_header(jaga, sink):
    msg = make_message("byte exact", to="bob@local.test", body=BODY)
    mid = message_id(msg)
    with SmtpClient(*jaga.addr()) as c:
        assert c.greeting().code == 220
        assert c.ehlo("client.test").code == 250
        r = c.cmd("MAIL FROM:<alice@sender.test> BODY=8BITMIME")
        assert r.code == 250, r
        r = c.cmd("RCPT TO:<bob@local.test>")
        assert r.code == 250, r
        r1, r2 = c.data(msg)
        assert r1.code == 354, r1
        assert r2.code == 250, r2
        c.quit()
    got = sink.wait_message(mid, "bob")
    assert len(got) == 1, "expected exactly one delivery, got %d" % len(got)
    removed, rest = strip_postfix_delivery_headers(got[0])
    # Postfix added Return-Path, X-Original-To, Delivered-To and its Received
    assert any(h.startswith(b"Received:") for h in removed), got[0]
    first, after = split_first_header(rest)
    assert first.startswith(b"Received:"), "jaga must add a Received: header on top, got %r" % first
    assert b"(Postfix)" not in first
    assert re.search(rb"\bby\s", first) and b";" in first, "Received: lacks 'by' or date: %r" % first
    # exactly one header added by jaga: what follows is the message as sent
    # (Postfix's maildir uses LF line ends)
    assert after == crlf_to_lf(msg), "message body/headers changed in transit"


def test_multiple_recipients_each_get_one_copy(jaga, sink):
    msg = make_message("three rcpts", to="alice@local.test, carol@local.test, dave@local.test")
    mid = message_id(msg)
    r = send_mail(*jaga.addr(), "alice@sender.test",
                  ["alice@local.test", "carol@local.test", "dave@local.test"], msg)
    assert r.code == 250, r
    for u in ("alice", "carol", "dave"):
        got = sink.wait_message(mid, u)
        assert len(got) == 1, (u, len(got))
    # Postfix saw one message with three recipients
    log = sink.wait_log(r"message-id=%s" % re.escape(mid))
    assert log


def test_unknown_user_refused_at_rcpt_with_next_hop_reply(jaga, sink):
    msg = make_message("unknown user", to="bob@local.test")
    mid = message_id(msg)
    with SmtpClient(*jaga.addr()) as c:
        c.greeting()
        c.ehlo()
        assert c.cmd("MAIL FROM:<alice@sender.test>").code == 250
        r = c.cmd("RCPT TO:<nosuchuser@local.test>")
        # Postfix's own refusal, passed through at RCPT time
        assert r.code == 550, r
        assert r.enh == "5.1.1", r
        assert "nosuchuser@local.test" in r.text and "User unknown" in r.text, r
        r = c.cmd("RCPT TO:<bob@local.test>")
        assert r.code == 250, r
        r1, r2 = c.data(msg)
        assert r2.code == 250, r2
        c.quit()
    assert len(sink.wait_message(mid, "bob")) == 1
    assert sink.wait_log(r"reject: RCPT .*nosuchuser@local\.test")
    # refused at RCPT, not accepted and bounced afterwards
    assert "status=bounced" not in sink.log_text()
    for line in sink.log_text().splitlines():
        if "nosuchuser@local.test" in line:
            assert "reject: RCPT" in line, line


def test_only_unknown_recipients_means_no_data(jaga, sink):
    with SmtpClient(*jaga.addr()) as c:
        c.greeting()
        c.ehlo()
        assert c.cmd("MAIL FROM:<alice@sender.test>").code == 250
        r = c.cmd("RCPT TO:<ghost@local.test>")
        assert r.code == 550 and r.enh == "5.1.1", r
        r = c.cmd("DATA")
        assert r.code in (503, 554), r
        assert r.enh.startswith("5."), r
        assert c.cmd("QUIT").code == 221


@pytest.mark.parametrize("tls", ["none", "may"])
def test_real_postfix_client_relays_through_jaga(jaga_factory, postfix_factory, sink, tls):
    j = jaga_factory()  # inbound only, trusts 127.0.0.9 only
    host, port = j.addr()
    client = postfix_factory("client", "127.0.0.3", relayhost="[%s]:%d" % (host, port),
                             extra={"smtp_tls_security_level": tls, "smtp_tls_loglevel": "1"})
    msg = make_message("postfix client %s" % tls, to="carol@local.test")
    mid = message_id(msg)
    r = send_mail(client.addr, client.port, "alice@sender.test", ["carol@local.test"], msg)
    assert r.code == 250, r
    assert sink.wait_message(mid, "carol", timeout=30), client.log_text()[-3000:]
    assert client.wait_log(r"to=<carol@local\.test>, relay=%s\[%s\]:%d.*status=sent"
                           % (re.escape(host), re.escape(host), port))
    qid = re.search(r"(\w+): message-id=%s" % re.escape(mid), client.log_text()).group(1)
    assert client.wait_log(r"%s: removed" % qid)
    # delivered once, at the first attempt: no duplicate, no deferral
    time.sleep(0.5)
    got = sink.find(mid, "carol")
    deferred = re.findall(r"status=deferred \((.*)\)", client.log_text())
    assert len(got) == 1, "%d copies delivered; Postfix deferred: %r" % (len(got), deferred)
    assert not deferred, deferred
    if tls == "may":
        assert client.wait_log(r"TLS connection established to %s\[%s\]:%d" % (re.escape(host), re.escape(host), port)), \
            client.log_text()[-3000:]
        assert j.wait_log(" smtp tls ")
    # the message as Postfix sent it, plus exactly jaga's and the sink's headers
    removed, rest = strip_postfix_delivery_headers(got[0])
    first, after = split_first_header(rest)
    assert first.startswith(b"Received:") and b"(Postfix)" not in first, first
    second, after2 = split_first_header(after)
    assert second.startswith(b"Received:") and b"by client.postfix.test (Postfix)" in second, second
    assert after2 == crlf_to_lf(msg)


@pytest.mark.skipif(shutil.which("swaks") is None, reason="swaks not installed")
def test_swaks_submission_starttls_auth_relays_to_foreign_domain(jaga, sink):
    host, port = jaga.addr("submission")
    msg = make_message("swaks submission", frm="app1@local.test", to="user@evil.test")
    mid = message_id(msg)
    r = subprocess.run(["swaks", "--server", host, "--port", str(port), "--tls",
                        "--auth", "PLAIN", "--auth-user", USER, "--auth-password", PASSWORD,
                        "--from", "app1@local.test", "--to", "user@evil.test",
                        "--helo", "swaks.client.test", "--data", "-", "--timeout", "30"],
                       input=msg, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
    out = r.stdout.decode(errors="replace")
    assert r.returncode == 0, out
    assert re.search(r"<~ +250[ -]", out.split("~> .")[-1]), out
    got = sink.wait_message(mid, "user", domain="evil.test")
    assert len(got) == 1
    assert PASSWORD not in jaga.log_text()
