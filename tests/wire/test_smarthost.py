"""Smarthost relay with a vault credential (issue 4 §2).

A REAL Postfix on 127.0.0.10 plays the upstream (SES and the like):
STARTTLS required with a certificate from a test CA made here, Cyrus SASL
(sasldb) AUTH required to send.  An application logs in to jaga with its
own credential; jaga logs in upstream with the vault entry; the upstream
secret shows up in no log, no client reply and no CLI output."""

import base64
import os
import re
import shutil
import subprocess

import pytest

from test_commands import open_submission
from test_users import user
from wirelib import Postfix, free_port, make_tempdir

UP_ADDR = "127.0.0.10"
UP_USER = "relayuser"
UP_SECRET = "Up-Stream-S3cret-7qZ"       # what would leak from an Exim config
APP = "shop-app"
APP_PASSWORD = "Shop-App-Pass-42x"


def run(*args, stdin=b""):
    r = subprocess.run(list(args), input=stdin, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=60)
    return r.returncode, r.stdout.decode(errors="replace"), r.stderr.decode(errors="replace")


def openssl(*args):
    rc, out, err = run("openssl", *args)
    assert rc == 0, err


def make_ca(d, name):
    key, crt = os.path.join(d, name + ".key"), os.path.join(d, name + ".pem")
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
            "-nodes", "-keyout", key, "-out", crt, "-days", "2", "-subj", "/CN=" + name,
            "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign")
    return key, crt


def make_server_cert(d, name, ca, ip):
    key, csr, crt = (os.path.join(d, name + x) for x in (".key", ".csr", ".pem"))
    ext = os.path.join(d, name + ".ext")
    with open(ext, "w") as f:
        f.write("subjectAltName=IP:%s\nextendedKeyUsage=serverAuth\n" % ip)
    openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", key, "-out", csr, "-subj", "/CN=" + ip)
    openssl("x509", "-req", "-in", csr, "-CA", ca[1], "-CAkey", ca[0], "-CAcreateserial",
            "-out", crt, "-days", "2", "-extfile", ext)
    return crt, key


@pytest.fixture(scope="module")
def pki():
    d = make_tempdir("jaga-pki-")
    ca = make_ca(d, "test-ca")
    other = make_ca(d, "other-ca")
    good = make_server_cert(d, "upstream", ca, UP_ADDR)
    wrong_name = make_server_cert(d, "elsewhere", ca, "127.0.0.99")
    yield {"ca": ca[1], "other_ca": other[1], "good": good, "wrong_name": wrong_name}
    shutil.rmtree(d, ignore_errors=True)


def start_upstream(cert, mechs="PLAIN LOGIN"):
    pf = Postfix("sink", UP_ADDR, hostname="smarthost.test",
                 smarthost={"cert": cert[0], "key": cert[1], "users": {UP_USER: UP_SECRET},
                            "mechs": mechs})
    return pf.start()


@pytest.fixture(scope="module")
def upstream(pki):
    pf = start_upstream(pki["good"])
    yield pf
    pf.stop()


@pytest.fixture
def state(jaga_bin):
    """state_dir with a vault (key file apart), entries ses (right secret)
    and bad (wrong secret), and the application shop-app."""
    d = make_tempdir("jaga-smarthost-")
    os.chmod(d, 0o700)
    st = {"dir": d, "key": os.path.join(d, "keys", "vault.key"),
          "vault": os.path.join(d, "vault"), "outputs": []}
    os.makedirs(os.path.dirname(st["key"]), mode=0o700)
    vault_cli(jaga_bin, st, "init")
    vault_cli(jaga_bin, st, "set", "ses", "--user", UP_USER, stdin=(UP_SECRET + "\n").encode())
    vault_cli(jaga_bin, st, "set", "bad", "--user", UP_USER, stdin=b"not-the-password\n")
    rc, out, err = user(jaga_bin, d, "add", APP, "--app", "--sender", "@local.test",
                        "--password-stdin", stdin=(APP_PASSWORD + "\n").encode())
    assert rc == 0, err
    st["outputs"] += [out, err]
    yield st
    shutil.rmtree(d, ignore_errors=True)


def vault_opts(st):
    return ["-o", "state_dir=" + st["dir"], "-o", "vault_key=file:" + st["key"]]


def vault_cli(jaga_bin, st, *args, stdin=b"", check=True):
    rc, out, err = run(jaga_bin, "vault", *args, *vault_opts(st), stdin=stdin)
    st["outputs"] += [out, err]
    assert rc == 0 or not check, (args, out, err)
    return rc, out, err


def gateway(jaga_factory, st, upstream, auth="vault:ses", ca=None, pki=None, **opts):
    o = {"state_dir": st["dir"], "vault_key": "file:" + st["key"],
         "next_hop_auth": auth, "next_hop_tls_ca_file": ca or pki["ca"],
         "next_hop_cache": "0"}
    o.update(opts)
    return jaga_factory(roles=("submission",), state_dir=st["dir"],
                        next_hop="smtp://%s:%d" % (UP_ADDR, upstream.port), opts=o)


def app_send(j, subject):
    """The application's whole session; returns (final reply, transcript)."""
    seen = []
    with open_submission(j) as c:
        blob = base64.b64encode(("\0%s\0%s" % (APP, APP_PASSWORD)).encode()).decode()
        r = c.cmd("AUTH PLAIN " + blob)
        assert r.code == 235, r
        for cmd in ("MAIL FROM:<%s@local.test>" % APP, "RCPT TO:<bob@local.test>"):
            r = c.cmd(cmd)
            seen.append(str(r))
            if r.code != 250:
                return r, seen
        r1, r2 = c.data(("From: %s@local.test\r\nTo: bob@local.test\r\nSubject: %s\r\n\r\n"
                         "Hello through the smarthost.\r\n" % (APP, subject)).encode())
        seen += [str(r1), str(r2)]
        return r2, seen


def secret_forms():
    plain = base64.b64encode(("\0%s\0%s" % (UP_USER, UP_SECRET)).encode()).decode()
    return [UP_SECRET, plain, base64.b64encode(UP_SECRET.encode()).decode()]


def assert_no_secret(*texts):
    """Fails without printing the texts: pytest would show the secret."""
    for i, t in enumerate(texts):
        for s in secret_forms():
            if s in t:
                pytest.fail("upstream secret found in output #%d" % i, pytrace=False)


def test_relay_authenticated_upstream(jaga_factory, state, upstream, pki):
    j = gateway(jaga_factory, state, upstream, pki=pki)
    r, seen = app_send(j, "via smarthost")
    assert r.code == 250, r
    assert upstream.wait_message("via smarthost", "bob"), upstream.log_text()
    # Postfix saw jaga log in as the upstream user, over TLS
    assert upstream.wait_log(r"sasl_method=PLAIN, sasl_username=%s\b" % UP_USER), \
        upstream.log_text()
    line = j.wait_log(re.compile(r" nexthop auth auth=vault:ses user=%s result=ok "
                                 r"code=235 mech=PLAIN" % UP_USER))
    assert line, j.log_text()
    assert j.wait_log(" nexthop tls ") and " verified=yes" in j.wait_log(" nexthop tls ")
    # the application saw neither the upstream user nor its secret
    assert_no_secret(*seen)
    assert not any(UP_USER in s for s in seen)
    j.stop()
    assert_no_secret(j.log_text(), upstream.log_text(), *state["outputs"])


def test_listener_auth_login_only_upstream(jaga_factory, state, pki):
    pf = start_upstream(pki["good"], mechs="LOGIN")
    try:
        # the per-listener form; the global next hop (the sink) has none
        hop = "smtp://%s:%d;next_hop_auth=vault:ses" % (UP_ADDR, pf.port)
        j = jaga_factory(listeners={"submission": ("127.0.0.1", free_port(), hop)},
                         state_dir=state["dir"],
                         opts={"state_dir": state["dir"], "vault_key": "file:" + state["key"],
                               "next_hop_tls_ca_file": pki["ca"]})
        r, seen = app_send(j, "via LOGIN")
        assert r.code == 250, r
        assert pf.wait_message("via LOGIN", "bob"), pf.log_text()
        assert pf.wait_log(r"sasl_method=LOGIN, sasl_username=%s\b" % UP_USER)
        assert j.wait_log(" result=ok code=235 mech=LOGIN"), j.log_text()
        j.stop()
        assert_no_secret(j.log_text(), pf.log_text(), *seen)
    finally:
        pf.stop()


def test_upstream_refuses_password(jaga_factory, state, upstream, pki):
    j = gateway(jaga_factory, state, upstream, auth="vault:bad", pki=pki)
    r, seen = app_send(j, "wrong upstream password")
    assert r.code == 451 and r.enh == "4.7.0", r
    assert "upstream credential was refused" in r.text, r
    line = j.wait_log(re.compile(r" nexthop auth auth=vault:bad user=%s result=failed "
                                 r"code=535 mech=PLAIN enh=5\.7\.8" % UP_USER))
    assert line, j.log_text()
    assert upstream.find("wrong upstream password", "bob") == []
    j.stop()
    assert "not-the-password" not in j.log_text()


@pytest.mark.parametrize("what", ["wrong CA", "wrong name"])
def test_unverified_upstream_gets_no_credential(jaga_factory, state, upstream, pki, what):
    if what == "wrong CA":
        pf, ca = upstream, pki["other_ca"]
    else:
        pf, ca = start_upstream(pki["wrong_name"]), pki["ca"]
    try:
        mark = len(pf.log_text())
        j = gateway(jaga_factory, state, pf, ca=ca, pki=pki)
        r, seen = app_send(j, "must not go " + what)
        assert r.cls == 4, r
        line = j.wait_log(re.compile(r" nexthop error phase=\"TLS handshake\" "
                                     r"reason=\"TLS certificate: "))
        assert line, j.log_text()
        assert " nexthop auth " not in j.log_text()
        assert "sasl_username" not in pf.log_text()[mark:]
        j.stop()
        assert_no_secret(j.log_text(), pf.log_text())
    finally:
        if pf is not upstream:
            pf.stop()


def serve_fails(jaga_bin, st, upstream, auth="vault:ses", extra=()):
    args = [jaga_bin, "serve", "-o", "state_dir=" + st["dir"], "-o",
            "vault_key=file:" + st["key"], "-o", "next_hop_auth=" + auth,
            "--listen", "submission=127.0.0.1:%d" % free_port(),
            "--next-hop", "smtp://%s:%d" % (UP_ADDR, upstream.port), *extra]
    r = subprocess.run(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=30)
    assert r.returncode != 0, r
    return r.stderr.decode(errors="replace")


def test_refuses_to_start_when_vault_too_open(jaga_bin, state, upstream):
    os.chmod(state["vault"], 0o644)
    err = serve_fails(jaga_bin, state, upstream)
    assert state["vault"] in err and "0644" in err, err
    assert " jaga ready" not in err


def test_refuses_to_start_when_key_too_open(jaga_bin, state, upstream):
    os.chmod(state["key"], 0o640)
    err = serve_fails(jaga_bin, state, upstream)
    assert "vault.key" in err and "0640" in err, err


def test_refuses_to_start_without_the_entry(jaga_bin, state, upstream):
    err = serve_fails(jaga_bin, state, upstream, auth="vault:nosuch")
    assert "nosuch" in err and state["vault"] in err, err


def test_auth_needs_smtp_next_hop(jaga_bin, state):
    rc, out, err = run(jaga_bin, "config", "check", "-o", "state_dir=" + state["dir"],
                       "-o", "next_hop=maildir:Maildir", "-o", "next_hop_auth=vault:ses")
    assert rc != 0 and "AUTH needs an smtp:// next hop" in err + out, (out, err)
    rc, out, err = run(jaga_bin, "config", "check", "-o", "next_hop_auth=ses")
    assert rc != 0 and "want vault:NAME" in err + out, (out, err)


def test_vault_test_command(jaga_bin, state, upstream, pki):
    url = "smtp://%s:%d" % (UP_ADDR, upstream.port)
    base = ["-o", "next_hop_tls_ca_file=" + pki["ca"], "--next-hop", url]
    rc, out, err = vault_cli(jaga_bin, state, "test", "ses", *base)
    assert rc == 0 and "vault test ses: ok" in out, (out, err)
    assert re.search(r" nexthop auth auth=vault:ses user=%s result=ok code=235 mech=PLAIN"
                     % UP_USER, err), err
    # the upstream used by the configuration (next_hop_auth), wrong password
    rc, out, err = vault_cli(jaga_bin, state, "test", "bad", "-o", "next_hop=" + url,
                             "-o", "next_hop_auth=vault:bad", "-o",
                             "next_hop_tls_ca_file=" + pki["ca"], check=False)
    assert rc == 1 and "vault test bad: failed" in out, (out, err)
    assert 'result=failed code=535 mech=PLAIN enh=5.7.8 reply="Error: authentication failed' in err, err
    # an upstream whose certificate does not verify never sees the secret
    rc, out, err = vault_cli(jaga_bin, state, "test", "ses", "--next-hop", url,
                             "-o", "next_hop_tls_ca_file=" + pki["other_ca"], check=False)
    assert rc == 1 and "TLS certificate" in err, (out, err)
    rc, out, err = vault_cli(jaga_bin, state, "test", "nosuch", *base, check=False)
    assert rc == 1 and "nosuch" in err, (out, err)
    assert_no_secret(*state["outputs"], upstream.log_text())


def test_rotation_reaches_running_daemon(jaga_bin, jaga_factory, state, upstream, pki):
    """The secret is decrypted per upstream login: after `jaga vault
    rotate`, the next connection uses the new one, no restart."""
    vault_cli(jaga_bin, state, "set", "rot", "--user", UP_USER, stdin=b"the-leaked-old-one\n")
    j = gateway(jaga_factory, state, upstream, auth="vault:rot", pki=pki)
    r, seen = app_send(j, "before rotation")
    assert r.code == 451 and r.enh == "4.7.0", r
    vault_cli(jaga_bin, state, "rotate", "rot", stdin=(UP_SECRET + "\n").encode())
    r, seen = app_send(j, "after rotation")
    assert r.code == 250, r
    assert upstream.wait_message("after rotation", "bob")
    assert j.alive()
    j.stop()
    assert_no_secret(j.log_text(), *state["outputs"])
    assert "the-leaked-old-one" not in j.log_text()


def test_run_as_must_read_the_vault(jaga_bin, jaga_factory, state, upstream, pki):
    """Checked again after dropping root: a vault the run_as user cannot
    read stops the start instead of failing every upstream login later."""
    err = serve_fails(jaga_bin, state, upstream, extra=["-o", "run_as=nobody"])
    assert "as run_as nobody" in err and "vault" in err, err
    import pwd
    nobody = pwd.getpwnam("nobody")
    for root, dirs, files in os.walk(state["dir"]):
        for n in [root] + [os.path.join(root, f) for f in files]:
            os.chown(n, nobody.pw_uid, nobody.pw_gid)
    j = gateway(jaga_factory, state, upstream, pki=pki, run_as="nobody")
    assert j.wait_log(" jaga start msg=\"running as nobody\"")
    r, seen = app_send(j, "as nobody")
    assert r.code == 250, r
    assert upstream.wait_message("as nobody", "bob")


def test_upstream_without_auth_or_entry(jaga_bin, jaga_factory, state, pki):
    """An upstream that offers no AUTH, and an entry removed while the
    daemon runs: 451 4.7.0 to the client, the reason in the log."""
    pf = Postfix("sink", UP_ADDR, hostname="smarthost.test",
                 smarthost={"cert": pki["good"][0], "key": pki["good"][1],
                            "users": {UP_USER: UP_SECRET}},
                 extra={"smtpd_sasl_auth_enable": "no"}).start()
    try:
        j = gateway(jaga_factory, state, pf, pki=pki)
        r, seen = app_send(j, "no AUTH upstream")
        assert r.code == 451 and r.enh == "4.7.0", r
        assert j.wait_log(re.compile(r" nexthop auth auth=vault:ses user=- result=failed "
                                     r"code=0 mech=- reason=\"AUTH PLAIN or LOGIN "
                                     r"not offered\"")), j.log_text()
    finally:
        pf.stop()


def test_entry_removed_while_running(jaga_bin, jaga_factory, state, upstream, pki):
    j = gateway(jaga_factory, state, upstream, pki=pki)
    r, seen = app_send(j, "entry still there")
    assert r.code == 250, r
    vault_cli(jaga_bin, state, "remove", "ses")
    r, seen = app_send(j, "entry gone")
    assert r.code == 451 and r.enh == "4.7.0", r
    assert j.wait_log(re.compile(r" nexthop auth auth=vault:ses user=- result=failed "
                                 r'code=0 mech=- reason=".*no entry \\"ses\\"')), j.log_text()
    assert j.alive()


def test_config_check_names_vault_problems(jaga_bin, state, upstream):
    args = [jaga_bin, "config", "check", "-o", "state_dir=" + state["dir"],
            "-o", "vault_key=file:" + state["key"],
            "-o", "next_hop=smtp://%s:%d" % (UP_ADDR, upstream.port)]
    rc, out, err = run(*args, "-o", "next_hop_auth=vault:ses")
    assert rc == 0 and "configuration OK" in out, (out, err)
    rc, out, err = run(*args, "-o", "next_hop_auth=vault:nosuch")
    assert rc == 1 and "next_hop_auth:" in err and "nosuch" in err, (out, err)
    os.chmod(state["vault"], 0o644)
    rc, out, err = run(*args, "-o", "next_hop_auth=vault:ses")
    assert rc == 1 and state["vault"] in err and "0644" in err, (out, err)
    assert_no_secret(out, err)
