"""Rotation and expiry (issue 4 §3) through the real daemon, with a clock
the test controls: libfaketime runs `jaga user add` (`jaga vault set`) N
days in the past,
so the credentials are really N days old when the daemon (on the real
clock, no test-only knob) checks them at start.  An application credential
100 days old gets one warning line and one alert; identities expiring in
10 days get the expiry warning; an expired one is refused at AUTH with a
text saying so; `jaga user list` flags each; vault entries the same.  The once-a-day schedule is
unit-tested (tests/unit/test_rotation.c)."""

import base64
import json
import os
import re
import shutil
import subprocess
import time

import pytest

from test_alerts import Receiver, secret_conf
from test_commands import open_submission
from wirelib import make_tempdir

FAKETIME_LIB = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1"


@pytest.fixture
def state_dir():
    d = make_tempdir("jaga-rotation-state-")
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def user(jaga_bin, state_dir, *args, days=0, stdin=b"", opts=()):
    """`jaga user ...`, run `days` days in the future (negative: the past)."""
    return cli(jaga_bin, state_dir, "user", *args, days=days, stdin=stdin, opts=opts)


def cli(jaga_bin, state_dir, *args, days=0, stdin=b"", opts=()):
    """`jaga ARGS`, run `days` days in the future (negative: the past)."""
    env = dict(os.environ)
    if days:
        assert os.path.exists(FAKETIME_LIB), "libfaketime missing: scripts/deps.sh test"
        env["LD_PRELOAD"] = FAKETIME_LIB
        env["FAKETIME"] = "%+dd" % days
        # the sanitizer runtime is not first once libfaketime is preloaded
        env["ASAN_OPTIONS"] = env.get("ASAN_OPTIONS", "") + ":verify_asan_link_order=0"
    cmd = [jaga_bin, *args, "-o", "state_dir=" + state_dir]
    for o in opts:
        cmd += ["-o", o]
    r = subprocess.run(cmd, input=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       env=env, timeout=60)
    return r.returncode, r.stdout.decode(errors="replace"), r.stderr.decode(errors="replace")


def add(jaga_bin, state_dir, name, *args, days=0, password="Rot-Pass-1"):
    rc, out, err = user(jaga_bin, state_dir, "add", name, "--sender", "@local.test",
                        "--password-stdin", *args, days=days, stdin=password.encode() + b"\n")
    assert rc == 0, err


def auth(g, name, password):
    with open_submission(g) as c:
        return c.cmd("AUTH PLAIN " + base64.b64encode(
            ("\0%s\0%s" % (name, password)).encode()).decode())


def gateway(jaga_factory, state_dir, url=None, **opts):
    o = {"myhostname": "gw.local.test", "alert_retry_delay": "300ms"}
    o.update(opts)
    conf = secret_conf(state_dir, url) if url else None
    return jaga_factory(roles=("submission",), state_dir=state_dir, opts=o, config_file=conf)


def test_faketime_moves_the_cli_clock(jaga_bin, state_dir):
    """The test's clock works: otherwise every test below proves nothing."""
    add(jaga_bin, state_dir, "then@local.test", days=-100)
    rc, out, err = user(jaga_bin, state_dir, "show", "then@local.test", "--json")
    assert rc == 0, err
    j = json.loads(out)
    assert abs(time.time() - 100 * 86400 - j["created"]) < 600, j
    assert j["age_days"] == 100, j


def test_old_app_credential_warned_and_one_alert(jaga_bin, jaga_factory, state_dir, receiver):
    add(jaga_bin, state_dir, "shop-app", "--app", days=-100)
    add(jaga_bin, state_dir, "fresh-app", "--app", days=-89)
    add(jaga_bin, state_dir, "alice@local.test", days=-400)   # a person: no age warning
    g = gateway(jaga_factory, state_dir, receiver.url)
    line = g.wait_log(re.compile(r" - credential age name=shop-app kind=app age_days=100 "
                                 r"max_days=90$"))
    assert line, g.log_text()
    assert receiver.wait(1)
    time.sleep(1.0)    # any second alert would have come by now
    alerts = receiver.alerts()
    assert len(alerts) == 1, alerts
    a = alerts[0]
    assert a["kind"] == "credential_age" and a["name"] == "shop-app", a
    assert a["rule"] == "age_days=100 max_days=90" and a["evidence"]["kind"] == "app", a
    assert a["lift"] == "jaga user passwd shop-app", a
    assert g.wait_log(re.compile(r" - alert sent channel=webhook kind=credential_age "
                                 r"name=shop-app "))
    log = g.log_text()
    assert "fresh-app" not in log and "alice@local.test" not in log, log
    assert "Rot-Pass-1" not in log
    # jaga user list flags it, in the column and in the JSON
    rc, out, err = user(jaga_bin, state_dir, "list")
    assert rc == 0, err
    rows = {l.split()[0]: l.split() for l in out.splitlines()[1:]}
    assert rows["shop-app"][-2:] == ["100", "old"], out
    assert rows["fresh-app"][-2:] == ["89", "-"], out
    assert rows["alice@local.test"][-1] == "-", out
    rc, out, err = user(jaga_bin, state_dir, "list", "--json")
    j = {i["name"]: i for i in json.loads(out)}
    assert j["shop-app"]["rotation"] == "old" and j["fresh-app"]["rotation"] == "", j
    # a new password ends it: the next start is quiet
    rc, _, err = user(jaga_bin, state_dir, "passwd", "shop-app", "--password-stdin",
                      stdin=b"Rot-Pass-2\n")
    assert rc == 0, err
    g.stop()
    g2 = gateway(jaga_factory, state_dir, receiver.url)
    assert auth(g2, "shop-app", "Rot-Pass-2").code == 235
    assert g2.wait_log(" - credential ", timeout=1.5) is None, g2.log_text()
    assert len(receiver.alerts()) == 1


def test_max_age_parameter(jaga_bin, jaga_factory, state_dir):
    add(jaga_bin, state_dir, "shop-app", "--app", days=-40)
    g = gateway(jaga_factory, state_dir, credential_max_age="30d")
    assert g.wait_log(" - credential age name=shop-app kind=app age_days=40 max_days=30")
    g.stop()
    g = gateway(jaga_factory, state_dir, credential_max_age="0")
    assert g.wait_log(" - credential ", timeout=1.5) is None, g.log_text()
    rc, out, _ = user(jaga_bin, state_dir, "list", opts=("credential_max_age=30d",))
    assert "old" in out, out


def test_expiry_warning_and_expired_refused(jaga_bin, jaga_factory, state_dir, receiver):
    add(jaga_bin, state_dir, "soon-app", "--app", "--expires", "10")
    add(jaga_bin, state_dir, "bob@local.test", "--expires", "10")
    add(jaga_bin, state_dir, "later-app", "--app", "--expires", "30")
    add(jaga_bin, state_dir, "gone-app", "--app", "--expires", "1", days=-3)
    add(jaga_bin, state_dir, "revoked-app", "--app", "--expires", "1", days=-3)
    assert user(jaga_bin, state_dir, "revoke", "revoked-app")[0] == 0
    g = gateway(jaga_factory, state_dir, receiver.url)
    assert g.wait_log(re.compile(r" - credential expiry name=soon-app kind=app "
                                 r"expires=\S+Z days_left=10$")), g.log_text()
    assert g.wait_log(re.compile(r" - credential expiry name=bob@local.test kind=account "
                                 r"expires=\S+Z days_left=10$"))
    assert g.wait_log(re.compile(r" - credential expiry name=gone-app kind=app "
                                 r"expires=\S+Z days_left=-2$"))
    assert receiver.wait(3)
    time.sleep(1.0)
    alerts = sorted(receiver.alerts(), key=lambda a: a["name"])
    assert [(a["kind"], a["name"]) for a in alerts] == [
        ("credential_expiry", "bob@local.test"), ("credential_expiry", "gone-app"),
        ("credential_expiry", "soon-app")], alerts
    assert alerts[2]["rule"].endswith(" days_left=10"), alerts[2]
    assert "jaga user passwd soon-app" in alerts[2]["lift"], alerts[2]
    log = g.log_text()
    assert "later-app" not in log and "revoked-app" not in log, log
    # the expired credential: right password, refused, told why
    r = auth(g, "gone-app", "Rot-Pass-1")
    assert r.code == 535 and r.enh == "5.7.8" and "expired" in r.text, r
    assert g.wait_log(re.compile(r" smtp auth mech=PLAIN user=gone-app result=expired "
                                 r"code=535\b")), g.log_text()
    assert auth(g, "soon-app", "Rot-Pass-1").code == 235
    rc, out, _ = user(jaga_bin, state_dir, "list", "--json")
    j = {i["name"]: i for i in json.loads(out)}
    assert j["soon-app"]["rotation"] == "expiring" and j["gone-app"]["rotation"] == "expired", j
    assert j["later-app"]["rotation"] == "" and j["revoked-app"]["rotation"] == "", j
    # 20 days on, the one expiring in 30 days is flagged as well
    rc, out, _ = user(jaga_bin, state_dir, "list", "--json", days=20)
    j = {i["name"]: i for i in json.loads(out)}
    assert j["later-app"]["rotation"] == "expiring" and j["soon-app"]["rotation"] == "expired", j


VAULT_SECRET = "Upstream-S3cret-9"


def test_old_vault_entry_warned_and_one_alert(jaga_bin, jaga_factory, state_dir, receiver):
    keydir = make_tempdir("jaga-rotation-key-")
    try:
        spec = ("vault_key=file:%s/vault.key" % keydir,)
        rc, _, err = cli(jaga_bin, state_dir, "vault", "init", opts=spec)
        assert rc == 0, err
        for name, args, days in (("ses-old", (), -100), ("ses-soon", ("--expires", "10"), 0),
                                 ("ses-new", (), -30)):
            rc, _, err = cli(jaga_bin, state_dir, "vault", "set", name, "--user", "AKIA" + name,
                             *args, days=days, stdin=(VAULT_SECRET + "\n").encode(), opts=spec)
            assert rc == 0, err
        g = gateway(jaga_factory, state_dir, receiver.url, vault_key=spec[0].split("=", 1)[1])
        assert g.wait_log(re.compile(r" - credential age name=ses-old kind=vault age_days=100 "
                                     r"max_days=90$")), g.log_text()
        assert g.wait_log(re.compile(r" - credential expiry name=ses-soon kind=vault "
                                     r"expires=\S+Z days_left=10$"))
        assert receiver.wait(2)
        time.sleep(1.0)
        alerts = sorted(receiver.alerts(), key=lambda a: a["name"])
        assert [(a["kind"], a["name"], a["lift"]) for a in alerts] == [
            ("credential_age", "ses-old", "jaga vault rotate ses-old"),
            ("credential_expiry", "ses-soon", "jaga vault rotate ses-soon")], alerts
        log = g.log_text()
        assert "ses-new" not in log and VAULT_SECRET not in log, log
        assert VAULT_SECRET not in json.dumps(alerts)
        # rotated: the next start is quiet about it
        rc, _, err = cli(jaga_bin, state_dir, "vault", "rotate", "ses-old",
                         stdin=b"Upstream-S3cret-10\n", opts=spec)
        assert rc == 0, err
        g.stop()
        g2 = gateway(jaga_factory, state_dir, vault_key=spec[0].split("=", 1)[1])
        assert g2.wait_log(" - credential expiry name=ses-soon ")
        assert "ses-old" not in g2.log_text(), g2.log_text()
    finally:
        shutil.rmtree(keydir, ignore_errors=True)
