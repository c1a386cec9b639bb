"""Identities in the state store (issue 3 part 1): `jaga user` and AUTH
through the real daemon against state_dir/jaga.db."""

import json
import os
import re
import subprocess
import time

import pytest

from idents import jaga_cli, plain, submission


def user(jaga_bin, state_dir, *args, stdin=b""):
    return jaga_cli(jaga_bin, state_dir, "user", *args, stdin=stdin)


def auth_from(jaga, src, name, password):
    with submission(jaga, src) as c:
        return c.cmd(plain(name, password))


def auth(jaga, name, password):
    return auth_from(jaga, None, name, password)


@pytest.fixture
def gateway(jaga_factory, state_dir):
    return jaga_factory(roles=("submission",), state_dir=state_dir)


def test_add_auth_revoke(jaga_bin, state_dir, gateway):
    rc, out, err = user(jaga_bin, state_dir, "add", "app7", "--app", "--sender", "@local.test")
    assert rc == 0, err
    password = out.strip()
    assert re.fullmatch(r"[A-Za-z0-9]{24}", password), out
    assert "once" in err
    r = auth(gateway, "app7", password)
    assert r.code == 235, r
    r = auth(gateway, "app7", password + "x")
    assert r.code == 535 and r.enh == "5.7.8", r
    rc, _, err = user(jaga_bin, state_dir, "revoke", "app7")
    assert rc == 0, err
    t0 = time.monotonic()
    r = auth(gateway, "app7", password)
    assert r.code == 535 and r.enh == "5.7.8" and "revoked" in r.text, r
    assert time.monotonic() - t0 < 1.0 + 0.5   # no restart, at the next AUTH
    for verb in (["list"], ["list", "--json"], ["show", "app7"], ["show", "app7", "--json"]):
        rc, out, err = user(jaga_bin, state_dir, *verb)
        assert rc == 0, err
        assert password not in out + err
        assert "$argon2id$" not in out + err
    rc, out, _ = user(jaga_bin, state_dir, "show", "app7", "--json")
    j = json.loads(out)
    assert j["status"] == "revoked" and j["kind"] == "app" and j["senders"] == ["@local.test"]
    assert gateway.wait_log(re.compile(r" smtp auth mech=PLAIN user=app7 result=revoked code=535\b"))
    assert password not in gateway.log_text()


def test_passwd_stdin_and_remove(jaga_bin, state_dir, gateway):
    rc, out, err = user(jaga_bin, state_dir, "add", "carl", "--password-stdin", stdin=b"first-Pass-1\n")
    assert rc == 0 and out == "", (out, err)
    assert auth(gateway, "carl", "first-Pass-1").code == 235
    rc, out, err = user(jaga_bin, state_dir, "passwd", "carl")
    assert rc == 0, err
    new = out.strip()
    assert auth(gateway, "carl", "first-Pass-1").code == 535
    assert auth(gateway, "carl", new).code == 235
    assert user(jaga_bin, state_dir, "remove", "carl")[0] == 0
    assert auth(gateway, "carl", new).code == 535
    rc, _, err = user(jaga_bin, state_dir, "remove", "carl")
    assert rc == 1 and "no identity" in err


def tool(*cmd):
    return subprocess.run(cmd, stdout=subprocess.PIPE, check=True).stdout.decode().strip()


def test_import_dovecot_passwd_file(jaga_bin, state_dir, gateway):
    sha = tool("openssl", "passwd", "-6", "-salt", "Qx7salt1", "Sha-Pass-6")
    yes = tool("mkpasswd", "-m", "yescrypt", "Yes-Pass-y")
    path = os.path.join(state_dir, "passwd")
    with open(path, "w") as f:
        f.write("# a Dovecot passwd-file\n")
        f.write("sha6@local.test:{SHA512-CRYPT}%s:1000:1000::/home/sha6::\n" % sha)
        f.write("yes:%s\n" % yes)
        f.write("no-colon-here\n")
        f.write("md5:{PLAIN-MD5}0123456789abcdef:1:1::::\n")
        f.write("%s:%s\n" % ("l" * 256, sha))
    rc, out, err = user(jaga_bin, state_dir, "import", path)
    assert rc == 1, err
    assert "%s:4: expected name:hash" % path in err
    assert "%s:5: unknown Dovecot scheme" % path in err
    assert "%s:6: the name is longer than 255 octets" % path in err
    assert "2 imported, 3 skipped" in err
    assert auth(gateway, "sha6@local.test", "Sha-Pass-6").code == 235
    assert auth(gateway, "yes", "Yes-Pass-y").code == 235
    assert auth(gateway, "yes", "Sha-Pass-6").code == 535
    assert "Sha-Pass-6" not in gateway.log_text()


def test_bad_input(jaga_bin, state_dir, gateway):
    rc, out, err = user(jaga_bin, state_dir, "add", "n" * 256)
    assert rc == 1 and "longer than 255" in err and out == ""
    rc, _, err = user(jaga_bin, state_dir, "add", "bad name")
    assert rc == 1
    rc, _, err = user(jaga_bin, state_dir, "add", "x1", "--network", "300.1.2.3/8")
    assert rc == 2 and "CIDR" in err
    rc, _, err = user(jaga_bin, state_dir, "add", "x1", "--sender", "nodomain")
    assert rc == 2
    rc, _, err = user(jaga_bin, state_dir, "show", "ghost")
    assert rc == 1 and "no identity" in err
    r = auth(gateway, "ghost", "whatever-pw")
    assert r.code == 535 and r.enh == "5.7.8" and "revoked" not in r.text, r
    r = auth(gateway, "g" * 300, "whatever-pw")
    assert r.code == 535, r
    for verb in ("add", "list", "show", "passwd", "revoke", "remove", "import", "hash"):
        rc, out, _ = user(jaga_bin, state_dir, verb, "--help")
        assert rc == 0 and out.startswith("usage: jaga user " + verb), verb


def test_user_table_still_works_beside_the_store(jaga_bin, state_dir, jaga_factory, user_table):
    from conftest import PASSWORD, USER
    j = jaga_factory(roles=("submission",), state_dir=state_dir, opts={"user_table": user_table})
    assert auth(j, USER, PASSWORD).code == 235
    # the store comes first: the same name there wins
    rc, out, err = user(jaga_bin, state_dir, "add", USER)
    assert rc == 0, err
    assert auth(j, USER, PASSWORD).code == 535
    assert auth(j, USER, out.strip()).code == 235


def test_too_new_schema_stops_the_daemon(jaga_bin, state_dir, jaga_factory):
    import sqlite3
    assert user(jaga_bin, state_dir, "list")[0] == 0
    db = sqlite3.connect(os.path.join(state_dir, "jaga.db"))
    db.execute("PRAGMA user_version = 99")
    db.commit()
    db.close()
    rc, _, err = user(jaga_bin, state_dir, "list")
    assert rc == 1 and "jaga.db has schema version 99; this jaga knows up to" in err
    with pytest.raises(RuntimeError, match="schema version 99"):
        jaga_factory(roles=("submission",), state_dir=state_dir)


def test_networks_set_unrevoke(jaga_bin, state_dir, gateway):
    """--network limits where a credential may AUTH from; `jaga user set`
    changes it (and limits) in the running daemon; unrevoke undoes revoke."""
    rc, out, err = user(jaga_bin, state_dir, "add", "office-app", "--app", "--sender",
                        "@local.test", "--network", "127.0.5.0/24", "--password-stdin",
                        stdin=b"Office-Pass-1\n")
    assert rc == 0, err
    r = auth_from(gateway, "127.0.5.9", "office-app", "Office-Pass-1")
    assert r.code == 235, r
    r = auth_from(gateway, "127.0.6.9", "office-app", "Office-Pass-1")
    assert r.code == 535 and r.enh == "5.7.8" and "network" in r.text, r
    # a wrong password from outside is an ordinary failure (nothing told)
    r = auth_from(gateway, "127.0.6.9", "office-app", "wrong")
    assert r.code == 535 and "network" not in r.text, r
    assert gateway.wait_log(re.compile(r" smtp auth mech=PLAIN user=office-app result=network "
                                       r"code=535\b"))

    rc, _, err = user(jaga_bin, state_dir, "set", "office-app", "--network", "127.0.6.0/24",
                      "--limit", "messages=5/1h")
    assert rc == 0 and "changed" in err, err
    assert auth_from(gateway, "127.0.6.9", "office-app", "Office-Pass-1").code == 235
    assert auth_from(gateway, "127.0.5.9", "office-app", "Office-Pass-1").code == 535
    rc, out, _ = user(jaga_bin, state_dir, "show", "office-app", "--json")
    j = json.loads(out)
    assert j["networks"] == ["127.0.6.0/24"] and j["limits"] == "messages=5/1h", j
    assert j["senders"] == ["@local.test"], j      # not given: kept

    rc, _, err = user(jaga_bin, state_dir, "set", "office-app", "--network", "any",
                      "--limit", "default")
    assert rc == 0, err
    j = json.loads(user(jaga_bin, state_dir, "show", "office-app", "--json")[1])
    assert j["networks"] == [] and j["limits"] == "", j
    assert auth_from(gateway, "127.0.7.9", "office-app", "Office-Pass-1").code == 235

    rc, _, err = user(jaga_bin, state_dir, "set", "office-app")
    assert rc == 2 and "nothing to change" in err
    rc, _, err = user(jaga_bin, state_dir, "set", "ghost", "--limit", "default")
    assert rc == 1
    rc, _, err = user(jaga_bin, state_dir, "set", "office-app", "--network", "10.0.0.0/33")
    assert rc == 2 and "not a CIDR" in err, err

    assert user(jaga_bin, state_dir, "revoke", "office-app")[0] == 0
    assert auth_from(gateway, "127.0.5.9", "office-app", "Office-Pass-1").code == 535
    rc, _, err = user(jaga_bin, state_dir, "unrevoke", "office-app")
    assert rc == 0 and "may AUTH again" in err, err
    assert auth_from(gateway, "127.0.5.9", "office-app", "Office-Pass-1").code == 235
