"""Alerts (issue 3 §5) through the real daemon: one alert per suspension
or lockout, carrying the evidence and the command that lifts it, through a
webhook (a small HTTP receiver in a thread), mail to the next hop and a
command; failed deliveries are retried without blocking mail, and the
outbox survives a restart.  The burst test: a credential sends 500
messages in about 10 s over several connections and is suspended at
exactly its limit."""

import http.server
import json
import os
import re
import shutil
import stat
import subprocess
import threading
import time

import pytest

from conftest import PASSWORD, USER
import idents
from idents import add_identity, jaga_cli, plain, submission
from wirelib import ConnectionClosed, free_port, make_tempdir, parse_log_line

NAME = "burst@local.test"
PW = "Burst-Pass-1"
OTHER = "other@local.test"
TOKEN = "SeCrEt-Tok3n-xyz"


class Receiver:
    """An HTTP server on 127.0.0.1 recording every POST before it answers.
    script: what to answer, in order ("hang" waits hang_s, then 500);
    after the script, 200."""

    def __init__(self, port=0, script=()):
        self.posts = []
        self.script = list(script)
        self.hang_s = 3.0
        self.lock = threading.Lock()
        rec = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                n = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(n)
                with rec.lock:
                    rec.posts.append({"path": self.path, "headers": dict(self.headers),
                                      "body": body, "at": time.monotonic()})
                    what = rec.script.pop(0) if rec.script else 200
                if what == "hang":
                    time.sleep(rec.hang_s)
                    what = 500
                self.send_response(what)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *a):
                pass

        http.server.ThreadingHTTPServer.allow_reuse_address = True
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self):
        return "http://127.0.0.1:%d/hook?token=%s" % (self.port, TOKEN)

    def wait(self, n, timeout=20.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.posts) >= n:
                    return True
            time.sleep(0.05)
        return False

    def alerts(self):
        with self.lock:
            return [json.loads(p["body"]) for p in self.posts]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    made = []

    def make(**kw):
        r = Receiver(**kw)
        made.append(r)
        return r
    yield make
    for r in made:
        r.close()


def run(jaga_bin, state_dir, *args, stdin=b""):
    return jaga_cli(jaga_bin, state_dir, *args, stdin=stdin)


def add_user(jaga_bin, state_dir, name, limit):
    add_identity(jaga_bin, state_dir, name, PW, "--limit", limit)


def login(gateway, name=NAME):
    return idents.login(gateway, name, PW)


def send_one(c, i, name=NAME):
    return idents.send_one(c, i, name, "burst")


def secret_conf(d, url):
    """The webhook URL (a token in it) in a file of mode 0600, not in argv."""
    path = os.path.join(d, "alerts.conf")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write("alert_webhook = %s\n" % url)
    return path


def gateway(jaga_factory, hop, state_dir, alert_webhook=None, **opts):
    o = {"myhostname": "gw.local.test", "alert_retry_delay": "300ms"}
    o.update(opts)
    conf = secret_conf(state_dir, alert_webhook) if alert_webhook else None
    return jaga_factory(roles=("submission",), next_hop=hop.url, state_dir=state_dir, opts=o,
                        config_file=conf)


def suspend_now(g, limit):
    """Send limit + 1 messages: the last one suspends NAME."""
    c = login(g)
    codes = [send_one(c, i).code for i in range(limit + 1)]
    c.quit()
    assert codes == [250] * limit + [550], codes


def away_from_hour_end(margin=40):
    """Fixed windows are clock hours: keep a burst inside one."""
    left = 3600 - time.time() % 3600
    if left < margin:
        time.sleep(left + 1)


def burst_worker(g, first, count, out, t0, pace):
    """Send count messages, one every pace seconds from t0, logging in
    again when the server closes."""
    c = None
    for i in range(first, first + count):
        time.sleep(max(0.0, t0 + (i - first) * pace - time.monotonic()))
        try:
            if c is None:
                c = login(g)
            r = send_one(c, i)
        except (ConnectionClosed, OSError, AssertionError):
            c = None
            r = None
        out.append(r)
    if c is not None:
        c.close()


def test_burst_one_alert_list_restart_lift(jaga_bin, jaga_factory, fake_hop, receiver,
                                           state_dir):
    add_user(jaga_bin, state_dir, NAME, "messages=100/1h action=suspend")
    hop = fake_hop()
    recv = receiver()
    g = gateway(jaga_factory, hop, state_dir, alert_webhook=recv.url)
    assert not any(TOKEN in a for a in g.args)
    away_from_hour_end()
    results = [[] for _ in range(10)]
    t0 = time.monotonic() + 1.0
    # 10 connections, 50 messages each, all 10 sent at the same instants,
    # 5 times a second: 500 in 10 s, and several transactions in flight
    # when the limit is crossed (each must not make an alert of its own)
    workers = [threading.Thread(target=burst_worker,
                                args=(g, k * 50, 50, results[k], t0, 0.2))
               for k in range(10)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(120)
    took = time.monotonic() - t0
    replies = [r for res in results for r in res]
    assert len(replies) == 500
    assert all(r is not None for r in replies), "a session broke off"
    accepted = [r for r in replies if r.code == 250]
    refused = [r for r in replies if r.code != 250]
    assert len(accepted) == 100, (len(accepted), took)
    assert len(hop.transactions) == 100
    # 550 once suspended; 451 for a message in flight on another connection
    # when the suspension was made (the client keeps it)
    assert all((r.code, r.enh) == (550, "5.7.1") or
               ((r.code, r.enh) == (451, "4.7.1") and "during this transaction" in r.text)
               for r in refused), refused[:3]
    assert 9 < took < 60, took

    # exactly one alert, with the evidence and the lift command
    assert recv.wait(1), g.log_text()[-3000:]
    time.sleep(1.5)             # a second one would have come by now
    posts = recv.posts
    assert len(posts) == 1, [p["body"] for p in posts]
    assert posts[0]["headers"]["Content-Type"] == "application/json"
    assert posts[0]["path"] == "/hook?token=" + TOKEN
    a = json.loads(posts[0]["body"])
    assert a["kind"] == "suspension" and a["name"] == NAME, a
    assert a["host"] == "gw.local.test"
    assert a["rule"] == "messages=100/3600s action=suspend", a
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", a["time"]), a
    assert a["evidence"]["count"] == 100 and a["evidence"]["limit"] == 100, a
    assert a["evidence"]["client_ips"] == ["127.0.0.1"], a
    assert a["evidence"]["rcpt_domains"] == ["remote.test"], a
    assert a["lift"] == "jaga suspend lift " + NAME
    assert g.wait_log(re.compile(r" - alert sent channel=webhook kind=suspension name=%s "
                                 r"attempt=1 id=\d+$" % re.escape(NAME)))
    assert g.log_text().count(" smtp suspend ") == 1
    assert TOKEN not in g.log_text() and PW not in g.log_text()

    rc, out, err = run(jaga_bin, state_dir, "suspend", "list")
    assert rc == 0 and NAME in out, (out, err)

    # a restart keeps it; the delivered alert is not sent again
    g.stop()
    assert "Sanitizer" not in g.log_text(), g.log_text()[-3000:]
    g2 = gateway(jaga_factory, hop, state_dir, alert_webhook=recv.url)
    c = login(g2)
    r = c.cmd("MAIL FROM:<%s>" % NAME)
    assert r.code == 550 and r.enh == "5.7.1" and "suspended" in r.text, r
    rc, out, err = run(jaga_bin, state_dir, "suspend", "lift", NAME)
    assert rc == 0, err
    r = c.cmd("MAIL FROM:<%s>" % NAME)
    assert r.code == 250, r
    c.cmd("RSET")
    c.quit()
    time.sleep(1.0)
    assert len(recv.posts) == 1


def test_webhook_failing_is_retried_and_never_blocks_mail(jaga_bin, jaga_factory, fake_hop,
                                                          receiver, state_dir):
    add_user(jaga_bin, state_dir, NAME, "messages=2/1h action=suspend")
    add_user(jaga_bin, state_dir, OTHER, "messages=1000/1h action=suspend")
    hop = fake_hop()
    recv = receiver(script=("hang", 500))
    recv.hang_s = 6.0
    g = gateway(jaga_factory, hop, state_dir, alert_webhook=recv.url,
                alert_timeout="5s", alert_retry_delay="500ms")
    away_from_hour_end()
    suspend_now(g, 2)
    assert recv.wait(1, timeout=10)
    # the first attempt hangs at the receiver: mail still flows
    c = login(g, OTHER)
    t0 = time.monotonic()
    codes = [send_one(c, i, OTHER).code for i in range(5)]
    took = time.monotonic() - t0
    c.quit()
    assert codes == [250] * 5 and took < 3.0, (codes, took)
    assert recv.wait(3, timeout=20), g.log_text()[-3000:]
    posts = recv.posts
    assert len(posts) == 3 and posts[0]["body"] == posts[1]["body"] == posts[2]["body"]
    assert posts[1]["at"] - posts[0]["at"] >= 5.0     # the timeout, then the back-off
    assert g.wait_log(re.compile(r" alert failed channel=webhook kind=suspension name=%s "
                                 r"attempt=1 status=0 reason=\"Timeout was reached\" "
                                 r"retry_in=1 id=" % re.escape(NAME)))
    assert g.wait_log(re.compile(r" alert failed channel=webhook kind=suspension .*attempt=2 "
                                 r"status=500 reason=refused retry_in=1 id="))
    assert g.wait_log(re.compile(r" alert sent channel=webhook kind=suspension .*attempt=3 "))
    assert TOKEN not in g.log_text()
    lines = [l for l in g.log_text().splitlines() if " - alert " in l]
    assert len(lines) == 3 and all(parse_log_line(l) for l in lines), lines


def test_retries_end_with_given_up(jaga_bin, jaga_factory, fake_hop, receiver, state_dir):
    add_user(jaga_bin, state_dir, NAME, "messages=1/1h action=suspend")
    hop = fake_hop()
    recv = receiver(script=(503,) * 10)
    g = gateway(jaga_factory, hop, state_dir, alert_webhook=recv.url,
                alert_retry_delay="200ms", alert_retry_time="1s")
    away_from_hour_end()
    suspend_now(g, 1)
    assert g.wait_log(re.compile(r" alert given_up channel=webhook kind=suspension .*"
                                 r"status=503"), timeout=15), g.log_text()[-2000:]
    n = len(recv.posts)
    assert 2 <= n <= 4, n        # 0.2 + 0.4 s fit in 1 s, 0.8 more do not
    time.sleep(1.0)
    assert len(recv.posts) == n


def test_alert_made_while_webhook_down_is_sent_after_restart(jaga_bin, jaga_factory, fake_hop,
                                                             receiver, state_dir):
    add_user(jaga_bin, state_dir, NAME, "messages=1/1h action=suspend")
    hop = fake_hop()
    port = free_port()
    url = "http://127.0.0.1:%d/hook?token=%s" % (port, TOKEN)
    g = gateway(jaga_factory, hop, state_dir, alert_webhook=url)
    away_from_hour_end()
    suspend_now(g, 1)
    assert g.wait_log(re.compile(r" alert failed channel=webhook kind=suspension .*"
                                 r"attempt=1 status=0 reason=\S+"))
    g.stop()
    assert os.path.exists(os.path.join(state_dir, "alerts.db"))
    recv = receiver(port=port)
    g2 = gateway(jaga_factory, hop, state_dir, alert_webhook=url)
    assert recv.wait(1, timeout=15), g2.log_text()
    a = recv.alerts()[0]
    assert a["kind"] == "suspension" and a["name"] == NAME and a["evidence"]["count"] == 1
    assert g2.wait_log(re.compile(r" alert sent channel=webhook kind=suspension .*attempt=2 "))
    time.sleep(1.0)
    assert len(recv.posts) == 1


def test_stop_cuts_an_attempt_short_and_keeps_the_alert(jaga_bin, jaga_factory, fake_hop,
                                                         receiver, state_dir):
    add_user(jaga_bin, state_dir, NAME, "messages=1/1h action=suspend")
    hop = fake_hop()
    recv = receiver(script=("hang",))
    recv.hang_s = 20.0
    g = gateway(jaga_factory, hop, state_dir, alert_webhook=recv.url, alert_timeout="60s")
    away_from_hour_end()
    suspend_now(g, 1)
    assert recv.wait(1, timeout=10)
    t0 = time.monotonic()
    g.stop()                    # SIGTERM while the webhook hangs
    assert time.monotonic() - t0 < 4, "the alert thread held up the stop"
    assert g.proc.returncode == 0, g.log_text()[-2000:]
    assert "Sanitizer" not in g.log_text()
    assert " alert failed " not in g.log_text()     # cut short, not a failure
    g2 = gateway(jaga_factory, hop, state_dir, alert_webhook=recv.url)
    assert recv.wait(2, timeout=15), g2.log_text()[-2000:]
    assert recv.posts[0]["body"] == recv.posts[1]["body"]
    assert g2.wait_log(re.compile(r" alert sent channel=webhook kind=suspension .*attempt=1 "))


def test_mail_channel_through_the_next_hop(jaga_bin, jaga_factory, fake_hop, state_dir):
    add_user(jaga_bin, state_dir, NAME, "messages=1/1h action=suspend")
    hop = fake_hop()
    g = gateway(jaga_factory, hop, state_dir, alert_mail_to="admin@local.test",
                alert_syslog="yes")
    away_from_hour_end()
    suspend_now(g, 1)
    # syslog(3) has no answer to check; the line says it was handed over
    assert g.wait_log(" alert sent channel=syslog kind=suspension name=%s attempt=1 " % NAME)
    assert g.wait_log(" alert sent channel=mail kind=suspension name=%s attempt=1 " % NAME), \
        g.log_text()[-2000:]
    mails = [t for t in hop.transactions if "admin@local.test" in " ".join(t["rcpts"])]
    assert len(mails) == 1, hop.transactions
    m = mails[0]
    assert "jaga@gw.local.test" in m["mail"]
    data = m["data"].decode()
    assert "Subject: jaga: %s suspended (messages=1/3600s)\r\n" % NAME in data, data
    assert "Auto-Submitted: auto-generated\r\n" in data
    assert "  count: 1\r\n" in data and "  client_ips: [\"127.0.0.1\"]\r\n" in data, data
    assert "To lift it: jaga suspend lift %s\r\n" % NAME in data


def test_mail_channel_to_an_lmtp_next_hop_goes_in_through_inbound(jaga_bin, jaga_factory,
                                                                   fake_hop, state_dir):
    add_user(jaga_bin, state_dir, NAME, "messages=1/1h action=suspend")
    hop = fake_hop(lmtp=True)
    g = jaga_factory(roles=("inbound", "submission"), next_hop=hop.url, state_dir=state_dir,
                     opts={"myhostname": "gw.local.test", "alert_mail_to": "admin@local.test"})
    away_from_hour_end()
    suspend_now(g, 1)
    assert g.wait_log(" alert sent channel=mail kind=suspension name=%s attempt=1 " % NAME), \
        g.log_text()[-2000:]
    mails = [t for t in hop.transactions if t["rcpts"] == ["<admin@local.test>"]]
    assert len(mails) == 1, hop.transactions
    data = mails[0]["data"].decode()
    assert "Subject: jaga: %s suspended (messages=1/3600s)\r\n" % NAME in data, data
    # it came in through our own inbound listener, like any local mail
    assert g.wait_log(re.compile(r" smtp rcpt to=<admin@local\.test> code=250 "))


def test_command_channel_gets_the_json(jaga_bin, jaga_factory, fake_hop, state_dir):
    add_user(jaga_bin, state_dir, NAME, "messages=1/1h action=suspend")
    d = make_tempdir("jaga-alert-cmd-")
    out = os.path.join(d, "alert.json")
    script = os.path.join(d, "alert.sh")
    with open(script, "w") as f:
        # fails once (exit 3), then keeps its stdin and environment
        f.write("#!/bin/sh\n"
                "[ -e %s/failed ] || { touch %s/failed; exit 3; }\n"
                "cat > %s.tmp && env | grep '^JAGA_ALERT_' | sort > %s/env && mv %s.tmp %s\n"
                % (d, d, out, d, out, out))
    os.chmod(script, stat.S_IRWXU)
    try:
        hop = fake_hop()
        g = gateway(jaga_factory, hop, state_dir, alert_command=script)
        away_from_hour_end()
        suspend_now(g, 1)
        assert g.wait_log(re.compile(r" alert failed channel=command kind=suspension .*"
                                     r"attempt=1 status=3 reason=\"exit status\" retry_in=1 "))
        assert g.wait_log(" alert sent channel=command kind=suspension name=%s attempt=2 " % NAME)
        with open(out) as f:
            a = json.load(f)
        assert a["kind"] == "suspension" and a["name"] == NAME
        assert a["lift"] == "jaga suspend lift " + NAME
        with open(os.path.join(d, "env")) as f:
            env = f.read()
        assert env == "JAGA_ALERT_KIND=suspension\nJAGA_ALERT_NAME=%s\n" % NAME, env
    finally:
        shutil.rmtree(d, ignore_errors=True)


def test_lockouts_make_one_alert_each(jaga_factory, user_table, receiver, state_dir):
    recv = receiver()
    g = jaga_factory(roles=("submission",), state_dir=state_dir,
                     config_file=secret_conf(state_dir, recv.url), opts={
                         "user_table": user_table, "auth_fail_delay": "50ms",
                         "auth_window": "1m", "auth_ip_failures": "3",
                         "auth_ip_lockout": "1m", "auth_account_ips": "10",
                         "auth_account_failures": "100", "auth_account_lockout": "1m",
                         "myhostname": "gw.local.test"})
    assert not any(TOKEN in a for a in g.args)
    for i in range(12):         # distributed guessing: one account locked
        with submission(g, "127.0.1.%d" % (10 + i)) as c:
            assert c.cmd(plain(USER, "not-the-password")).code == 535
    assert recv.wait(1), g.log_text()[-2000:]
    with submission(g, "127.0.1.99") as c:      # brute force: one IP locked
        for _ in range(3):
            assert c.cmd(plain("nobody", "not-the-password")).code == 535
    assert recv.wait(2), g.log_text()[-2000:]
    time.sleep(1.0)
    alerts = recv.alerts()
    assert [a["kind"] for a in alerts] == ["account_lockout", "ip_lockout"], alerts
    acc, ip = alerts
    assert acc["name"] == USER and acc["rule"] == "ips=10 failures=10"
    assert acc["evidence"]["ips"] == 10 and acc["evidence"]["last_ip"] == "127.0.1.19"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", acc["until"]), acc
    assert "ends by itself" in acc["lift"]
    assert ip["name"] == "127.0.1.99" and ip["evidence"]["reason"] == "failures"
    assert ip["evidence"]["strikes"] == 1
    assert PASSWORD not in g.log_text() and TOKEN not in g.log_text()


def test_config_check_rejects_bad_alert_values(jaga_bin):
    d = make_tempdir("jaga-alert-conf-")
    conf = os.path.join(d, "jaga.conf")
    with open(conf, "w") as f:
        f.write("alert_webhook = ftp://user:%s@example.org/x\n"
                "alert_mail_to = not an address\n"
                "alert_command = relative/path\n"
                "alert_retry_time = forever\n" % TOKEN)
    try:
        r = subprocess.run([jaga_bin, "config", "check", "-c", conf], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=30)
        text = (r.stdout + r.stderr).decode()
        assert r.returncode != 0
        assert "jaga.conf:1: alert_webhook: want an http:// or https:// URL" in text, text
        assert "jaga.conf:2: alert_mail_to: " in text
        assert "jaga.conf:3: alert_command: want an absolute path" in text
        assert "jaga.conf:4: alert_retry_time: " in text
        assert TOKEN not in text
    finally:
        shutil.rmtree(d, ignore_errors=True)
