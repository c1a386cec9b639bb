"""SMTP commands and extensions: EHLO keywords, simple verbs, enhanced status
codes, STARTTLS (incl. the CVE-2011-0411 injection test), implicit TLS,
AUTH PLAIN/LOGIN (issue area 2)."""

import base64
import re
import smtplib
import ssl

import pytest

from conftest import PASSWORD, USER
from idents import b64
from wirelib import ConnectionClosed, SmtpClient, dot_stuff, make_message, message_id

BAD_PASSWORD = "Not-The-Pw-7731q"


def tls_ctx():
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def open_submission(jaga, tls=True):
    c = SmtpClient(*jaga.addr("submission"))
    assert c.greeting().code == 220
    assert c.ehlo().code == 250
    if tls:
        r = c.starttls()
        assert r.code == 220, r
        assert r.enh == "2.0.0", r
        r = c.ehlo()
        assert r.code == 250, r
    return c


def assert_enh(r):
    """2xx/4xx/5xx replies carry an enhanced code of the same class."""
    assert r.enh, "reply without enhanced status code: %s" % r
    assert r.enh[0] == str(r.code)[0], "enhanced code class differs: %s" % r


def test_ehlo_keywords_inbound(jaga):
    with SmtpClient(*jaga.addr()) as c:
        g = c.greeting()
        assert g.code == 220
        r = c.ehlo("client.test")
        assert r.code == 250
        assert len(r.lines) > 1, "EHLO reply must be multi-line with keywords"
        for kw in ("PIPELINING", "8BITMIME", "ENHANCEDSTATUSCODES", "STARTTLS", "SMTPUTF8", "SIZE"):
            assert kw in c.caps, "EHLO lacks %s: %s" % (kw, r)
        assert re.fullmatch(r"[1-9][0-9]*", c.caps["SIZE"]), "SIZE needs a number: %r" % c.caps["SIZE"]
        # HELO after EHLO is fine too and is a single line
        r = c.cmd("HELO client.test")
        assert r.code == 250 and len(r.lines) == 1, r


def test_ehlo_size_follows_message_size_limit(jaga_factory):
    j = jaga_factory(opts={"message_size_limit": "100k"})
    with SmtpClient(*j.addr()) as c:
        c.greeting()
        c.ehlo()
        assert int(c.caps["SIZE"]) in (100000, 102400), c.caps


def test_submission_offers_auth_only_after_starttls(jaga):
    c = SmtpClient(*jaga.addr("submission"))
    with c:
        c.greeting()
        r = c.ehlo()
        assert "STARTTLS" in c.caps, r
        assert "AUTH" not in c.caps, "AUTH offered before TLS: %s" % r
        assert c.starttls().code == 220
        r = c.ehlo()
        assert "AUTH" in c.caps, r
        mechs = c.caps["AUTH"].upper().split()
        assert "PLAIN" in mechs and "LOGIN" in mechs, r
        assert "STARTTLS" not in c.caps, "STARTTLS offered again inside TLS (RFC 3207 §4.2): %s" % r


def test_auth_before_tls_refused_on_submission(jaga):
    with SmtpClient(*jaga.addr("submission")) as c:
        c.greeting()
        c.ehlo()
        r = c.cmd("AUTH PLAIN " + b64("\0%s\0%s" % (USER, PASSWORD)))
        assert 500 <= r.code < 600, r
        assert_enh(r)
        assert PASSWORD not in jaga.log_text()


def test_simple_verbs(jaga):
    with SmtpClient(*jaga.addr()) as c:
        c.greeting()
        r = c.cmd("HELO client.test")
        assert r.code == 250, r
        r = c.cmd("NOOP")
        assert r.code == 250 and r.enh == "2.0.0", r
        r = c.cmd("NOOP some argument")
        assert r.code == 250, r
        r = c.cmd("RSET")
        assert r.code == 250 and r.enh == "2.0.0", r
        r = c.cmd("HELP")
        assert r.code in (211, 214), r
        assert_enh(r)
        r = c.cmd("quit")  # verbs are case-insensitive
        assert r.code == 221 and r.enh == "2.0.0", r
        assert c.is_closed(), "connection must close after QUIT"


def test_vrfy_never_reveals(jaga):
    with SmtpClient(*jaga.addr()) as c:
        c.greeting()
        c.ehlo()
        known = c.cmd("VRFY bob@local.test")
        unknown = c.cmd("VRFY nosuchuser@local.test")
        bare = c.cmd("VRFY bob")
        for r in (known, unknown, bare):
            assert r.code == 252, r
            assert_enh(r)
        # same answer whether the user exists or not
        assert known.enh == unknown.enh
        assert "nosuchuser" not in unknown.text.lower() or "unknown" not in unknown.text.lower()
        assert c.cmd("QUIT").code == 221


def test_rset_clears_transaction(jaga):
    with SmtpClient(*jaga.addr()) as c:
        c.greeting()
        c.ehlo()
        assert c.cmd("MAIL FROM:<alice@sender.test>").code == 250
        assert c.cmd("RCPT TO:<bob@local.test>").code == 250
        assert c.cmd("RSET").code == 250
        r = c.cmd("RCPT TO:<bob@local.test>")
        assert r.code == 503 and r.enh == "5.5.1", r
        r = c.cmd("DATA")
        assert r.code == 503 and r.enh == "5.5.1", r
        # a MAIL inside a transaction is a sequence error too
        assert c.cmd("MAIL FROM:<alice@sender.test>").code == 250
        r = c.cmd("MAIL FROM:<alice@sender.test>")
        assert r.code == 503 and r.enh == "5.5.1", r


def test_mail_before_helo_is_refused(jaga):
    with SmtpClient(*jaga.addr()) as c:
        c.greeting()
        r = c.cmd("MAIL FROM:<alice@sender.test>")
        assert r.code == 503 and r.enh == "5.5.1", r


def test_every_reply_has_enhanced_code(jaga_factory):
    """RFC 2034 §3: every reply except the greeting and the HELO/EHLO reply
    carries an enhanced status code (354 and 334 are not 2/4/5 classes)."""
    j = jaga_factory(opts={"max_errors": "50"})
    msg = make_message("enhanced codes")
    with SmtpClient(*j.addr()) as c:
        c.greeting()
        c.ehlo()
        seen = []
        for line in ["NOOP", "RSET", "HELP", "VRFY bob@local.test", "EXPN staff",
                     "MAIL FROM:<alice@sender.test>", "RCPT TO:<bob@local.test>",
                     "RCPT TO:<nosuchuser@local.test>", "RCPT TO:<user@evil.test>",
                     "RCPT TO:<no-brackets-bad syntax>", "MAIL FROM:<x@y.test>",
                     "FOOBAR", "DATA"]:
            seen.append((line, c.cmd(line)))
        r354 = seen[-1][1]
        assert r354.code == 354, r354
        c.send(dot_stuff(msg) + b".\r\n")
        seen.append(("<end of data>", c.reply()))
        seen.append(("MAIL FROM:<bad", c.cmd("MAIL FROM:<bad")))
        seen.append(("RCPT TO:<bob@local.test>", c.cmd("RCPT TO:<bob@local.test>")))
        seen.append(("STARTTLS extra", c.cmd("STARTTLS extra")))
        seen.append(("QUIT", c.cmd("QUIT")))
    bad = [(l, str(r)) for l, r in seen if r.code != 354 and (not r.enh or r.enh[0] != str(r.code)[0])]
    assert not bad, "replies without a matching enhanced status code: %r" % bad


def test_starttls_requires_new_ehlo(jaga):
    with SmtpClient(*jaga.addr()) as c:
        c.greeting()
        c.ehlo()
        assert c.starttls().code == 220
        r = c.cmd("MAIL FROM:<alice@sender.test>")
        assert r.code == 503 and r.enh == "5.5.1", "EHLO state must be reset by STARTTLS: %s" % r
        r = c.ehlo()
        assert r.code == 250
        assert c.cmd("MAIL FROM:<alice@sender.test>").code == 250
        r = c.cmd("STARTTLS")
        assert 500 <= r.code < 600, "STARTTLS twice must fail: %s" % r


def test_starttls_plaintext_injection_cve_2011_0411(jaga):
    """Commands pipelined after STARTTLS in the plaintext phase must not be
    executed inside the TLS session."""
    c = SmtpClient(*jaga.addr())
    with c:
        c.greeting()
        c.ehlo()
        c.send(b"STARTTLS\r\nMAIL FROM:<inject@evil.test>\r\n")
        r = c.reply()
        if r.code != 220:
            # refusing the pipelined STARTTLS is a safe answer too
            assert 500 <= r.code < 600, r
            return
        try:
            c._wrap_tls()
        except (ssl.SSLError, ConnectionClosed, OSError):
            return  # dropped: safe
        # nothing may come unsolicited (a reply to the injected MAIL)
        if c.is_closed(timeout=1.0):
            return  # dropped: safe
        assert not c.buf, "reply to the injected plaintext command: %r" % c.buf
        try:
            r = c.ehlo()
        except ConnectionClosed:
            return
        assert r.code == 250 and len(r.lines) > 1, "first reply inside TLS is not the EHLO reply: %s" % r
        r = c.cmd("RCPT TO:<bob@local.test>")
        assert r.code == 503, "the injected MAIL was executed inside TLS: RCPT got %s" % r
    assert not re.search(r"smtp mail from=<inject@evil\.test> code=250", jaga.log_text())


def test_submissions_implicit_tls(jaga):
    host, port = jaga.addr("submissions")
    c = SmtpClient(host, port, tls=True)
    with c:
        assert c.tls_version and c.tls_version.startswith("TLS"), c.tls_version
        assert c.greeting().code == 220
        r = c.ehlo()
        assert r.code == 250
        assert "AUTH" in c.caps and "PLAIN" in c.caps["AUTH"].upper().split(), r
        assert "STARTTLS" not in c.caps, r
        r = c.cmd("AUTH PLAIN " + b64("\0%s\0%s" % (USER, PASSWORD)))
        assert r.code == 235 and r.enh == "2.7.0", r
    assert jaga.wait_log(re.compile(r" smtp tls version=TLS"))


def test_submissions_plaintext_client_gets_no_smtp(jaga):
    """A plaintext client on the implicit-TLS port must not get an SMTP
    dialogue in clear."""
    host, port = jaga.addr("submissions")
    c = SmtpClient(host, port, timeout=5)
    with c:
        c.send(b"EHLO plain.test\r\n")
        try:
            data = c.sock.recv(4096)
        except (OSError, ConnectionClosed):
            data = b""
        assert not data.startswith(b"220 ") and not data.startswith(b"250"), data


@pytest.mark.parametrize("role", ["submission", "submissions"])
def test_quit_inside_tls_gets_221(jaga, role):
    if role == "submission":
        c = open_submission(jaga)
    else:
        c = SmtpClient(*jaga.addr(role), tls=True)
        c.greeting()
        c.ehlo()
    with c:
        r = c.cmd("QUIT")
        assert r.code == 221 and r.enh == "2.0.0", r
        assert c.is_closed()


def test_auth_plain_good_and_bad(jaga):
    c = open_submission(jaga)
    with c:
        r = c.cmd("AUTH PLAIN " + b64("\0%s\0%s" % (USER, BAD_PASSWORD)))
        assert r.code == 535 and r.enh == "5.7.8", r
        # PLAIN without initial response: 334 then the response
        r = c.cmd("AUTH PLAIN")
        assert r.code == 334, r
        r = c.cmd(b64("\0%s\0%s" % (USER, PASSWORD)))
        assert r.code == 235 and r.enh == "2.7.0", r
        r = c.cmd("AUTH PLAIN " + b64("\0%s\0%s" % (USER, PASSWORD)))
        assert r.code == 503 and r.enh == "5.5.1", "second AUTH must be refused: %s" % r
    assert jaga.wait_log(re.compile(r" smtp auth mech=PLAIN user=%s result=fail code=535\b" % USER))
    assert jaga.wait_log(re.compile(r" smtp auth mech=PLAIN user=%s result=ok code=235\b" % USER))


def test_auth_login_good_and_bad(jaga):
    c = open_submission(jaga)
    with c:
        r = c.cmd("AUTH LOGIN")
        assert r.code == 334 and base64.b64decode(r.lines[0]).lower().startswith(b"username"), r
        r = c.cmd(b64(USER))
        assert r.code == 334 and base64.b64decode(r.lines[0]).lower().startswith(b"password"), r
        r = c.cmd(b64(BAD_PASSWORD))
        assert r.code == 535 and r.enh == "5.7.8", r
        # LOGIN with the user name as initial response (RFC 4954 style)
        r = c.cmd("AUTH LOGIN " + b64(USER))
        assert r.code == 334, r
        r = c.cmd(b64(PASSWORD))
        assert r.code == 235 and r.enh == "2.7.0", r
    assert jaga.wait_log(re.compile(r" smtp auth mech=LOGIN user=%s result=ok code=235\b" % USER))


def test_auth_cancelled_with_star(jaga):
    c = open_submission(jaga)
    with c:
        assert c.cmd("AUTH LOGIN").code == 334
        r = c.cmd("*")
        assert r.code == 501 and r.enh == "5.7.0", r  # RFC 4954 §4 and §6
        r = c.cmd("NOOP")
        assert r.code == 250, r


def test_submission_refuses_mail_before_auth(jaga):
    # in clear
    with SmtpClient(*jaga.addr("submission")) as c:
        c.greeting()
        c.ehlo()
        r = c.cmd("MAIL FROM:<app1@local.test>")
        assert r.code == 530 and r.enh == "5.7.0", r
    # inside TLS, not authenticated
    c = open_submission(jaga)
    with c:
        r = c.cmd("MAIL FROM:<app1@local.test>")
        assert r.code == 530 and r.enh == "5.7.0", r
        r = c.cmd("RCPT TO:<user@evil.test>")
        assert 500 <= r.code < 600, r


def test_smtplib_submission_with_auth_delivers(jaga, sink):
    host, port = jaga.addr("submission")
    msg = make_message("smtplib submission", frm="app1@local.test", to="relay@evil.test")
    mid = message_id(msg)
    with smtplib.SMTP(host, port, timeout=30) as s:
        s.ehlo("smtplib.client.test")
        s.starttls(context=tls_ctx())
        s.ehlo("smtplib.client.test")
        s.login(USER, PASSWORD)
        refused = s.sendmail("app1@local.test", ["relay@evil.test"], msg)
        assert refused == {}
    assert len(sink.wait_message(mid, "relay", domain="evil.test")) == 1


def test_smtplib_bad_password_raises(jaga):
    host, port = jaga.addr("submission")
    with smtplib.SMTP(host, port, timeout=30) as s:
        s.starttls(context=tls_ctx())
        with pytest.raises(smtplib.SMTPAuthenticationError) as ei:
            s.login(USER, BAD_PASSWORD)
        assert ei.value.smtp_code == 535


def test_password_never_logged(jaga):
    secrets = [PASSWORD, BAD_PASSWORD, b64(PASSWORD), b64(BAD_PASSWORD),
               b64("\0%s\0%s" % (USER, PASSWORD)), b64("\0%s\0%s" % (USER, BAD_PASSWORD))]
    c = open_submission(jaga)
    with c:
        c.cmd("AUTH PLAIN " + b64("\0%s\0%s" % (USER, BAD_PASSWORD)))
        c.cmd("AUTH LOGIN")
        c.cmd(b64(USER))
        c.cmd(b64(BAD_PASSWORD))
        c.cmd("AUTH PLAIN " + b64("\0%s\0%s" % (USER, PASSWORD)))
        c.quit()
    c = SmtpClient(*jaga.addr("submissions"), tls=True)
    with c:
        c.greeting()
        c.ehlo()
        c.cmd("AUTH LOGIN " + b64(USER))
        c.cmd(b64(PASSWORD))
        c.quit()
    # wait until both sessions are logged as ended
    assert jaga.wait_log(re.compile(r" smtp auth .*result=ok"))
    jaga_log = jaga.log_text()
    for s in secrets:
        assert s not in jaga_log, "secret %r appears in the log" % s
    assert re.search(r"\buser=%s\b" % USER, jaga_log), "the user name should be logged"
