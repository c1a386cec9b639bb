"""store = redis:// (issue 3 §7): counters, suspensions and AUTH lockouts
shared by several gateways through a real redis-server this test starts on
127.0.0.1 (--save '' --appendonly no).  Two gateways hold one limit together
(exactly N accepted, one suspension, refused and lifted on both), a limit is
exact across the worker threads of one gateway, guessing split across two
gateways locks the account (and the IP) on both, and with Redis down mail is
refused with 451 4.3.0 and AUTH with 454 4.7.0 until it is back."""

import json
import os
import re
import shutil
import socket
import subprocess
import threading
import time

import pytest

import idents
from idents import plain, submission
from wirelib import free_port, make_tempdir, wait_until

NAME = "fleet@local.test"
PASSWORD = "Fleet-Pass-7"
BAD = "not-the-password"


class Redis:
    """A scratch redis-server on 127.0.0.1; stop() and start() keep the port."""

    def __init__(self):
        self.port = free_port()
        self.url = "redis://127.0.0.1:%d" % self.port
        self.proc = None

    def ping(self):
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                s.sendall(b"PING\r\n")
                return s.recv(64).startswith(b"+PONG")
        except OSError:
            return False

    def start(self):
        if shutil.which("redis-server") is None:
            pytest.fail("redis-server is not installed (scripts/deps.sh test)")
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no", "--daemonize", "no",
             "--loglevel", "warning"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        assert wait_until(self.ping, timeout=10), "redis-server did not answer"
        return self

    def stop(self):
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
            self.proc = None


@pytest.fixture
def redis():
    r = Redis().start()
    yield r
    r.stop()


@pytest.fixture
def dirs():
    made = []

    def make():
        d = make_tempdir("jaga-fleet-")
        made.append(d)
        return d
    yield make
    for d in made:
        shutil.rmtree(d, ignore_errors=True)


def cli(jaga_bin, conf, *args, stdin=b""):
    r = subprocess.run([jaga_bin, *args, "-c", conf], input=stdin,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    return r.returncode, r.stdout.decode(errors="replace"), r.stderr.decode(errors="replace")


def gateway(jaga_bin, jaga_factory, hop, redis, dirs, limit=None, **opts):
    """One gateway with its own state_dir and configuration file (store =
    the shared Redis), and NAME imported into its own identity store."""
    d = dirs()
    conf = os.path.join(d, "jaga.conf")
    with open(conf, "w") as f:
        f.write("state_dir = %s\nstore = %s\n" % (d, redis.url))
    args = ["user", "add", NAME, "--password-stdin"]
    if limit:
        args += ["--limit", limit]
    rc, _, err = cli(jaga_bin, conf, *args, stdin=(PASSWORD + "\n").encode())
    assert rc == 0, err
    o = {"auth_fail_delay": "10ms"}
    o.update(opts)
    g = jaga_factory(roles=("submission",), next_hop=hop.url, state_dir=d,
                     config_file=conf, opts=o)
    g.conf = conf
    return g


def login(g, src=None, password=PASSWORD, user=NAME):
    c = submission(g, src)
    return c, c.cmd(plain(user, password))


def send_one(c, i):
    return idents.send_one(c, i, NAME, "fleet")


def away_from_minute_end():
    """A 1m window is a clock minute: start with room left in it."""
    if time.time() % 60 > 40:
        time.sleep(61 - time.time() % 60)


def blast(gateways, conns, per_conn):
    """conns parallel connections, connection i on gateways[i % n], each
    sending per_conn messages; returns every final reply."""
    replies, lock = [], threading.Lock()
    errors = []

    def run(i):
        try:
            c, r = login(gateways[i % len(gateways)])
            assert r.code == 235, r
            got = [send_one(c, i * per_conn + k) for k in range(per_conn)]
            c.quit()
            with lock:
                replies.extend(got)
        except Exception as e:      # reported below, not lost in the thread
            errors.append(e)
    threads = [threading.Thread(target=run, args=(i,)) for i in range(conns)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors
    assert len(replies) == conns * per_conn
    return replies


def test_two_gateways_hold_one_limit_and_one_suspension(jaga_bin, jaga_factory, fake_hop,
                                                        redis, dirs):
    hop = fake_hop()
    gs = [gateway(jaga_bin, jaga_factory, hop, redis, dirs,
                  limit="messages=40/1m action=suspend") for _ in range(2)]
    away_from_minute_end()
    replies = blast(gs, conns=10, per_conn=10)
    ok = [r for r in replies if r.code == 250]
    assert len(ok) == 40, [str(r) for r in replies]
    assert len(hop.transactions) == 40
    refused = [r for r in replies if r.code != 250]
    # 550 once suspended; 451 for a message already in flight on another
    # connection when the suspension was made
    assert all((r.code, r.enh) == (550, "5.7.1") or
               ((r.code, r.enh) == (451, "4.7.1") and "during this transaction" in r.text)
               for r in refused), refused
    # one suspension in all, logged by whichever gateway crossed the limit
    assert wait_until(lambda: sum(g.log_text().count(" smtp suspend ") for g in gs) == 1)
    time.sleep(0.5)
    assert sum(g.log_text().count(" smtp suspend ") for g in gs) == 1
    for g in gs:
        c, r = login(g)
        assert r.code == 235, r     # AUTH still answers
        r = c.cmd("MAIL FROM:<%s>" % NAME)
        assert r.code == 550 and r.enh == "5.7.1" and "is suspended" in r.text, r
        c.quit()
        assert PASSWORD not in g.log_text()
    for g in gs:
        rc, out, err = cli(jaga_bin, g.conf, "suspend", "list", "--json")
        assert rc == 0, err
        j = json.loads(out)
        assert [s["name"] for s in j] == [NAME] and j[0]["active"], j
        assert j[0]["evidence"]["limit"] == 40 and j[0]["evidence"]["count"] == 40
    rc, out, err = cli(jaga_bin, gs[1].conf, "suspend", "lift", NAME)
    assert rc == 0, err
    for g in gs:
        c, r = login(g)
        assert r.code == 235, r
        r = c.cmd("MAIL FROM:<%s>" % NAME)
        assert r.code == 250, "lifted on every gateway: %s" % r
        c.quit()
        rc, out, err = cli(jaga_bin, g.conf, "suspend", "list", "--json")
        assert rc == 0 and json.loads(out) == [], (out, err)
    rc, out, err = cli(jaga_bin, gs[0].conf, "suspend", "show", NAME, "--json")
    assert rc == 0 and not json.loads(out)["active"], (out, err)


def test_lift_on_password_change_through_redis(jaga_bin, jaga_factory, fake_hop, redis, dirs):
    hop = fake_hop()
    gs = [gateway(jaga_bin, jaga_factory, hop, redis, dirs,
                  limit="messages=1/1h action=suspend") for _ in range(2)]
    c, r = login(gs[0])
    assert send_one(c, 0).code == 250
    assert send_one(c, 1).code == 550
    c.quit()
    rc, out, err = cli(jaga_bin, gs[0].conf, "suspend", "lift", NAME, "--require-password-change")
    assert rc == 0 and "passwd" in out, err
    c, r = login(gs[1])
    assert c.cmd("MAIL FROM:<%s>" % NAME).code == 550
    rc, _, err = cli(jaga_bin, gs[1].conf, "user", "passwd", NAME, "--password-stdin",
                     stdin=(PASSWORD + "\n").encode())
    assert rc == 0, err
    assert c.cmd("MAIL FROM:<%s>" % NAME).code == 250
    c.quit()


def test_limit_exact_across_worker_threads(jaga_bin, jaga_factory, fake_hop, redis, dirs):
    hop = fake_hop()
    g = gateway(jaga_bin, jaga_factory, hop, redis, dirs,
                limit="messages=30/1m action=defer", workers="2")
    away_from_minute_end()
    replies = blast([g], conns=6, per_conn=10)
    assert sum(r.code == 250 for r in replies) == 30, [str(r) for r in replies]
    assert all(r.code == 451 and r.enh == "4.7.1" for r in replies if r.code != 250)
    assert len(hop.transactions) == 30


def test_guessing_split_across_gateways_locks_on_both(jaga_bin, jaga_factory, fake_hop,
                                                       redis, dirs):
    hop = fake_hop()
    opts = {"auth_window": "1m", "auth_ip_failures": "3", "auth_ip_lockout": "1m",
            "auth_account_ips": "4", "auth_account_failures": "100",
            "auth_account_lockout": "1m", "auth_spray_accounts": "5"}
    gs = [gateway(jaga_bin, jaga_factory, hop, redis, dirs, **opts) for _ in range(2)]
    # one failure from each of 4 IPs, alternating gateways: neither gateway
    # saw more than 2 IPs, together they saw 4
    for i in range(4):
        c, r = login(gs[i % 2], src="127.0.2.%d" % (10 + i), password=BAD)
        assert r.code == 535 and r.enh == "5.7.8", r
        c.quit()
    for k, g in enumerate(gs):
        c, r = login(g, src="127.0.2.%d" % (50 + k))
        assert r.code == 535 and r.enh == "5.7.8", "locked on gateway %d: %s" % (k, r)
        c.quit()
        assert g.wait_log(re.compile(r' smtp auth mech=PLAIN user=%s result=fail code=535 '
                                     r'reason="account locked"' % re.escape(NAME)))
    lines = [l for g in gs for l in g.log_text().splitlines() if " smtp lockout kind=account" in l]
    assert len(lines) == 1, lines
    assert re.search(r"kind=account user=%s ips=4 failures=4 until=\S+Z$" % re.escape(NAME),
                     lines[0]), lines[0]
    # one IP: 2 failures on one gateway and 1 on the other lock it on both
    # (another name, so that no gateway's own tracker locks NAME first)
    src = "127.0.2.80"
    for g in (gs[0], gs[0], gs[1]):
        c, r = login(g, src=src, password=BAD, user="nobody@local.test")
        assert r.code == 535, r
        c.quit()
    for g in gs:
        c, r = login(g, src=src)
        assert r.code == 454 and r.enh == "4.7.0", r
        c.quit()
    for g in gs:
        assert PASSWORD not in g.log_text() and BAD not in g.log_text()


def test_redis_down_defers_and_recovers(jaga_bin, jaga_factory, fake_hop, redis, dirs):
    hop = fake_hop()
    g = gateway(jaga_bin, jaga_factory, hop, redis, dirs, limit="messages=100/1h action=defer")
    c, r = login(g)
    assert r.code == 235, r
    assert send_one(c, 0).code == 250
    redis.stop()
    r = c.cmd("MAIL FROM:<%s>" % NAME)
    assert r.code == 451 and r.enh == "4.3.0", r
    c.quit()
    c2, r = login(g)
    assert r.code == 454 and r.enh == "4.7.0", "AUTH with Redis down: %s" % r
    c2.quit()
    assert len(hop.transactions) == 1, "nothing passed uncounted"
    assert g.wait_log(re.compile(r" store .*redis"))
    redis.start()
    c, r = login(g)
    assert r.code == 235, r
    assert send_one(c, 1).code == 250
    c.quit()
    assert len(hop.transactions) == 2


def test_bad_store_url_names_file_line_and_parameter(jaga_bin, dirs):
    d = dirs()
    conf = os.path.join(d, "jaga.conf")
    with open(conf, "w") as f:
        f.write("# fleet\nstate_dir = %s\nstore = redis://127.0.0.1:99999\n" % d)
    r = subprocess.run([jaga_bin, "config", "check", "-c", conf], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=30)
    text = (r.stdout + r.stderr).decode()
    assert r.returncode != 0
    assert "%s:3: store: bad Redis URL" % conf in text, text


def test_burst_from_many_ips_seen_across_gateways(jaga_bin, jaga_factory, fake_hop, redis, dirs):
    """The burst rule "one credential from many IPs" counts across the
    fleet: three client IPs on each of two gateways make six (burst_ips 5)."""
    hop = fake_hop()
    gs = [gateway(jaga_bin, jaga_factory, hop, redis, dirs) for _ in range(2)]
    codes = []
    for i in range(6):
        c, r = login(gs[i % 2], src="127.0.3.%d" % (i + 1))
        assert r.code == 235, r
        codes.append(send_one(c, i).code)
        c.quit()
    assert codes[:5] == [250] * 5, codes
    assert codes[5] == 550, codes
    assert wait_until(lambda: sum(g.log_text().count(" smtp suspend ") for g in gs) == 1)
    rc, out, err = cli(jaga_bin, gs[0].conf, "suspend", "show", NAME, "--json")
    assert rc == 0, err
    j = json.loads(out)
    assert j["rule"].startswith("burst ips=6/"), j
    assert len(j["evidence"]["client_ips"]) == 6, j
