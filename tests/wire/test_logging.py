"""Log format golden test (issue area 7, docs/logging.md).

A fixed session (connect, EHLO, MAIL, 2 RCPT, DATA, QUIT) through jaga to
the Postfix sink must log exactly the lines in golden/session.log once the
variable parts are normalised: timestamp, pid, session id, ports, sizes,
durations and Postfix's queue id.
"""

import os
import re

from wirelib import SmtpClient, make_message, parse_log_line

GOLDEN = os.path.join(os.path.dirname(__file__), "golden", "session.log")

TS_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z ")


def normalize(line, sessid):
    line = TS_RE.sub("<TS> ", line)
    line = re.sub(r"^<TS> jaga\[\d+\]:", "<TS> jaga[<PID>]:", line)
    line = line.replace(" %s " % sessid, " <SESSID> ", 1)
    line = re.sub(r"\bport=\d+", "port=<PORT>", line)
    line = re.sub(r"(\d+\.\d+\.\d+\.\d+):\d+", r"\1:<PORT>", line)
    line = re.sub(r"\bsize=\d+", "size=<SIZE>", line)
    line = re.sub(r"\bduration_ms=\d+", "duration_ms=<N>", line)
    line = re.sub(r"queued as [0-9A-Za-z]+", "queued as <QUEUEID>", line)
    return line


def golden_session(j):
    msg = make_message("golden session", to="golden@local.test, bob@local.test")
    with SmtpClient(*j.addr()) as c:
        port = c.local_port
        assert c.greeting().code == 220
        assert c.ehlo("golden.client.test").code == 250
        assert c.cmd("MAIL FROM:<alice@sender.test>").code == 250
        assert c.cmd("RCPT TO:<golden@local.test>").code == 250
        assert c.cmd("RCPT TO:<bob@local.test>").code == 250
        r1, r2 = c.data(msg)
        assert r2.code == 250, r2
        assert c.cmd("QUIT").code == 221
    sessid = j.session_id_for_port(port)
    assert sessid, "no 'smtp connect' line with port=%d" % port
    assert j.wait_log(re.compile(r" %s smtp disconnect " % sessid))
    return sessid


def test_session_log_matches_golden(jaga_factory, sink):
    j = jaga_factory(opts={"myhostname": "jaga.wire.test"})
    sessid = golden_session(j)
    got = [normalize(l, sessid) for l in j.lines if (" %s " % sessid) in l]
    want = open(GOLDEN).read().splitlines()
    assert got == want, "log differs from golden/session.log:\n--- got\n%s\n--- want\n%s" % (
        "\n".join(got), "\n".join(want))


def test_every_line_is_key_value(jaga_factory, sink):
    """Every line: TIMESTAMP jaga[PID]: SESSID component event key=value..."""
    j = jaga_factory()
    golden_session(j)
    # a refused relay, a protocol error and AUTH-free TLS, for more events
    with SmtpClient(*j.addr(), src="127.0.0.5") as c:
        c.greeting()
        c.ehlo("x.test")
        c.cmd("MAIL FROM:<a@sender.test>")
        c.cmd("RCPT TO:<user@evil.test>")
        c.cmd("BOGUS command")
        c.starttls()
        c.ehlo("x.test")
        c.quit()
    assert j.wait_log(re.compile(r" smtp tls version=\S+ cipher="))
    j.stop()
    bad = [l for l in j.lines if parse_log_line(l) is None]
    assert not bad, "lines not in the documented format:\n" + "\n".join(bad)
    sessids = {parse_log_line(l)["sessid"] for l in j.lines}
    assert "-" in sessids and len(sessids) >= 3


def test_refused_relay_logged_with_code(jaga_factory):
    j = jaga_factory()
    with SmtpClient(*j.addr(), src="127.0.0.5") as c:
        c.greeting()
        c.ehlo()
        c.cmd("MAIL FROM:<a@sender.test>")
        r = c.cmd("RCPT TO:<user@evil.test>")
        assert r.code in (550, 554)
    line = j.wait_log(re.compile(r" smtp rcpt to=<user@evil\.test> code=%d enh=5\.7\.1\b" % r.code))
    assert line, "no rcpt line for the refused relay"
    p = parse_log_line(line)
    assert p and "reason" in p["kv"], line


def test_values_with_specials_are_quoted(jaga_factory):
    """A value holding space, quote or backslash is written in double quotes
    with \\" and \\\\ escapes; parsing it back gives the original."""
    j = jaga_factory()
    path = r'<"odd \"sender\" \\ x"@sender.test>'
    with SmtpClient(*j.addr()) as c:
        port = c.local_port
        c.greeting()
        c.ehlo()
        r = c.cmd("MAIL FROM:" + path)
        assert r.code == 250, r
        c.cmd("QUIT")
    sessid = j.session_id_for_port(port)
    line = j.wait_log(re.compile(r" %s smtp mail " % sessid))
    assert line
    p = parse_log_line(line)
    assert p is not None, "unparseable: %s" % line
    assert p["kv"]["from"] == path, (line, p["kv"])
    assert 'from="<\\"odd' in line, line


def test_daemon_lines(jaga_factory):
    j = jaga_factory()
    ready = j.wait_log(" - jaga ready")
    p = parse_log_line(ready)
    assert p and p["component"] == "jaga" and p["event"] == "ready", ready
    assert "listeners" in p["kv"] and "workers" in p["kv"], ready
    j.stop()
    assert j.wait_log(" - jaga stop", timeout=1), "no stop line after SIGTERM"
