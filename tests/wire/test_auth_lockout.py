"""AUTH brute-force lockout (issue 3 §6) through the real gateway: brute
force from one IP, distributed guessing from many IPs against one account,
and spraying many names from one IP.  Client IPs are distinct loopback
addresses (127.0.1.x); the parameters are small so the test takes seconds."""

import re

from conftest import PASSWORD, USER
from idents import plain, submission

BAD = "not-the-password"


def start(jaga_factory, user_table, **kw):
    opts = {"user_table": user_table, "auth_fail_delay": "50ms",
            "auth_window": "1m", "auth_ip_failures": "3",
            "auth_ip_lockout": "1m", "auth_account_ips": "10",
            "auth_account_failures": "100", "auth_account_lockout": "1m"}
    opts.update(kw)
    return jaga_factory(roles=("submission",), opts=opts)


def test_brute_force_from_one_ip(jaga_factory, user_table):
    jaga = start(jaga_factory, user_table)
    with submission(jaga, "127.0.1.1") as c:
        for _ in range(3):
            r = c.cmd(plain(USER, BAD))
            assert r.code == 535 and r.enh == "5.7.8", r
        # locked: even the right password is not checked
        r = c.cmd(plain(USER, PASSWORD))
        assert r.code == 454 and r.enh == "4.7.0", r
        assert "Too many authentication failures" in r.text, r
        assert c.cmd("AUTH LOGIN").code == 454
        r = c.cmd("AUTH LOGIN")
        assert r.code == 421 and r.enh == "4.7.0", r
        assert c.is_closed()
    with submission(jaga, "127.0.1.1") as c:
        r = c.cmd(plain(USER, PASSWORD))
        assert r.code == 454, "a new connection from the locked IP: %s" % r
    assert jaga.wait_log(re.compile(
        r" smtp lockout kind=ip ip=127\.0\.1\.1 reason=failures strikes=1 until="))
    assert jaga.wait_log(" result=locked code=454")
    ok = [e for e in jaga.events(component="smtp", event="auth")
          if e["kv"].get("result") == "ok"]
    assert not ok, "a password was checked while locked: %r" % ok
    # another client IP is not affected
    with submission(jaga, "127.0.1.2") as c:
        r = c.cmd(plain(USER, PASSWORD))
        assert r.code == 235, r


def test_distributed_guessing_locks_the_account(jaga_factory, user_table):
    jaga = start(jaga_factory, user_table)
    for i in range(12):
        with submission(jaga, "127.0.1.%d" % (10 + i)) as c:
            r = c.cmd(plain(USER, BAD))
            assert r.code == 535 and r.enh == "5.7.8", r
    # the right password from a fresh IP: refused, the account is locked
    with submission(jaga, "127.0.1.50") as c:
        r = c.cmd(plain(USER, PASSWORD))
        assert r.code == 535 and r.enh == "5.7.8", r
    assert jaga.wait_log(re.compile(
        r' smtp auth mech=PLAIN user=%s result=fail code=535 '
        r'reason="account locked"' % USER))
    lines = [l for l in jaga.log_text().splitlines()
             if " smtp lockout kind=account" in l]
    assert len(lines) == 1, lines
    assert re.search(r"kind=account user=%s ips=10 failures=10 until=\S+Z$"
                     % USER, lines[0]), lines[0]
    assert PASSWORD not in jaga.log_text()


def test_spraying_locks_the_ip(jaga_factory, user_table):
    jaga = start(jaga_factory, user_table, auth_ip_failures="50")
    with submission(jaga, "127.0.1.30") as c:
        codes = [c.cmd(plain("user%d" % i, BAD)).code for i in range(6)]
    assert codes == [535] * 5 + [454], codes
    assert jaga.wait_log(re.compile(
        r" smtp lockout kind=ip ip=127\.0\.1\.30 reason=spraying "))
    with submission(jaga, "127.0.1.30") as c:
        assert c.cmd(plain(USER, PASSWORD)).code == 454


def test_distributed_guessing_from_50_ips(jaga_factory, user_table):
    """50 client IPs, one guess each, against one account (the case
    fail2ban cannot see: no IP ever fails twice).  With auth_account_ips
    = 40 the 40th guess locks the account; the other ten are refused as
    locked, and so is the right password afterwards; no IP is locked."""
    jaga = start(jaga_factory, user_table, auth_account_ips="40")
    for i in range(50):
        with submission(jaga, "127.0.4.%d" % (10 + i)) as c:
            r = c.cmd(plain(USER, BAD))
            assert r.code == 535 and r.enh == "5.7.8", r
    with submission(jaga, "127.0.4.200") as c:
        r = c.cmd(plain(USER, PASSWORD))
        assert r.code == 535 and r.enh == "5.7.8", r
    log = jaga.log_text()
    locked = [l for l in log.splitlines() if 'reason="account locked"' in l]
    assert len(locked) == 11, len(locked)       # guesses 41..50 and the right password
    assert [l for l in log.splitlines() if " smtp lockout kind=account" in l and
            "ips=40 " in l], log[-2000:]
    assert " smtp lockout kind=ip" not in log
    assert PASSWORD not in log
