"""The vault (issue 4 §1) through the real `jaga vault` commands: secrets go
in on stdin only and never come out (stdout, stderr, argv), every broken
vault or key is refused with its own message and an exit status of 1, and
nothing is overwritten then."""

import json
import os
import resource
import shutil
import stat
import subprocess
import time

import pytest

from wirelib import make_tempdir, wait_until

SECRET = "BFx9-ses-Smtp-Secret/+=0001"
SECRET2 = "BFx9-ses-Smtp-Secret/+=0002"


@pytest.fixture
def vdir():
    d = make_tempdir("jaga-vault-cli-")
    os.chmod(d, 0o700)
    yield d
    shutil.rmtree(d, ignore_errors=True)


class VaultCli:
    def __init__(self, jaga_bin, d, key=None, env=None):
        self.bin, self.d = jaga_bin, d
        self.state = os.path.join(d, "state")
        self.key = key or os.path.join(d, "keys", "vault.key")
        self.spec = "file:" + self.key if not key or "/" in key else key
        self.env = env
        self.outputs = []      # every stdout and stderr, to grep for secrets

    @property
    def vault(self):
        return os.path.join(self.state, "vault")

    def run(self, *args, stdin=b"", spec=None):
        argv = [self.bin, "vault", *args, "-o", "state_dir=" + self.state,
                "-o", "vault_key=" + (spec or self.spec)]
        r = subprocess.run(argv, input=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=60, env=self.env)
        out, err = r.stdout.decode(errors="replace"), r.stderr.decode(errors="replace")
        self.outputs += [out, err]
        return r.returncode, out, err

    def assert_no_secret(self, *secrets):
        for s in secrets:
            for o in self.outputs:
                assert s not in o


@pytest.fixture
def cli(jaga_bin, vdir):
    os.mkdir(os.path.join(vdir, "state"), 0o750)
    c = VaultCli(jaga_bin, vdir)
    rc, out, err = c.run("init")
    assert rc == 0, err
    assert "new master key" in err
    return c


def test_init_set_list_rotate_remove(cli):
    assert stat.S_IMODE(os.stat(cli.key).st_mode) == 0o400
    assert stat.S_IMODE(os.stat(cli.vault).st_mode) == 0o600
    assert os.path.dirname(cli.key) != os.path.dirname(cli.vault)
    rc, _, err = cli.run("init")
    assert rc == 1 and "exists already" in err
    rc, out, err = cli.run("set", "ses", "--user", "AKIAEXAMPLE", stdin=(SECRET + "\n").encode())
    assert rc == 0, err
    assert out == "stored ses (user AKIAEXAMPLE)\n"
    rc, out, err = cli.run("set", "mg", "--user", "postmaster@mg.example", "--expires", "10",
                           stdin=b"mailgun-pw\n")
    assert rc == 0, err
    with open(cli.vault) as f:
        text = f.read()
    assert "AKIAEXAMPLE" in text          # metadata readable without the key
    assert SECRET not in text and SECRET.encode().hex() not in text
    rc, out, err = cli.run("list")
    assert rc == 0, err
    lines = out.splitlines()
    assert lines[0].split() == ["NAME", "USER", "VERSION", "AGE", "EXPIRES", "WARNING"]
    assert lines[1].split()[:4] == ["mg", "postmaster@mg.example", "1", "0d"]
    assert lines[1].split()[-1] == "expiring"
    assert lines[2].split() == ["ses", "AKIAEXAMPLE", "1", "0d", "never", "-"]
    assert "1 entry past vault_max_age (90 days) or near expiry" in err
    rc, out, err = cli.run("list", "--json")
    j = json.loads(out)
    assert [e["name"] for e in j] == ["mg", "ses"]
    assert j[0]["warnings"] == ["expiring"] and j[1]["warnings"] == []
    assert j[1]["expires"] is None and j[1]["version"] == 1 and j[1]["age_days"] == 0
    rc, out, err = cli.run("rotate", "ses", stdin=(SECRET2 + "\n").encode())
    assert rc == 0 and out == "rotated ses (version 2)\n", err
    rc, out, _ = cli.run("list", "--json")
    assert json.loads(out)[1]["version"] == 2
    rc, out, err = cli.run("rotate", "nope", stdin=b"x\n")
    assert rc == 1 and 'no entry "nope"' in err
    rc, out, err = cli.run("remove", "mg")
    assert rc == 0 and out == "removed mg\n"
    rc, out, err = cli.run("remove", "mg")
    assert rc == 1 and 'no entry "mg"' in err
    rc, out, _ = cli.run("list", "--json")
    assert [e["name"] for e in json.loads(out)] == ["ses"]
    cli.assert_no_secret(SECRET, SECRET2, "mailgun-pw")


def test_secret_never_from_argv(cli):
    # a secret given as an argument or an option is a usage error, not stored
    for args in (["set", "ses", "--user", "u", SECRET], ["set", "ses", "--user", "u", "--secret", SECRET],
                 ["set", "ses", "--password=" + SECRET, "--user", "u"], ["set", "ses"]):
        rc, out, err = cli.run(*args, stdin=b"")
        assert rc == 2, (args, err)
        assert err.startswith("usage: jaga vault set")
    rc, out, _ = cli.run("list", "--json")
    assert json.loads(out) == []
    rc, _, err = cli.run("set", "ses", "--user", "u", stdin=b"\n")
    assert rc == 1 and "empty" in err
    rc, _, err = cli.run("set", "bad/name", "--user", "u", stdin=b"x\n")
    assert rc == 1 and "entry name" in err
    for verb in ("init", "set", "list", "rotate", "remove", "rekey"):
        r = subprocess.run([cli.bin, "vault", verb, "--help"], stdout=subprocess.PIPE, timeout=30)
        assert r.returncode == 0 and r.stdout.startswith(b"usage: jaga vault " + verb.encode())
    cli.assert_no_secret(SECRET)    # not even in getopt's complaint
    r = subprocess.run([cli.bin, "vault", "--help"], stdout=subprocess.PIPE, timeout=30)
    assert r.returncode == 0 and b"test NAME" in r.stdout


def _core_unlimited():
    resource.setrlimit(resource.RLIMIT_CORE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))


def test_no_core_dumps(cli):
    # started with core dumps allowed; while it waits for the secret, the
    # process has turned them off itself
    p = subprocess.Popen([cli.bin, "vault", "set", "ses", "--user", "u", "-o", "state_dir=" + cli.state,
                          "-o", "vault_key=" + cli.spec], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, preexec_fn=_core_unlimited)
    try:
        def limits():
            try:
                with open("/proc/%d/limits" % p.pid) as f:
                    return [l for l in f if l.startswith("Max core file size")]
            except OSError:
                return None
        line = wait_until(lambda: (lambda l: l if l and l[0].split()[4] == "0" else None)(limits()), 10)
        assert line, limits()
        out, err = p.communicate((SECRET + "\n").encode(), timeout=30)
        assert p.returncode == 0, err
    finally:
        if p.poll() is None:
            p.kill()


def _snapshot(path):
    with open(path, "rb") as f:
        return f.read()


def _refused(cli, want, spec=None):
    """Every keyed verb refused with want in its message, file untouched."""
    before = _snapshot(cli.vault)
    for args, stdin in ((["set", "new", "--user", "u"], b"zz\n"), (["rotate", "ses"], b"zz\n"),
                        (["remove", "ses"], b""), (["rekey"], b"")):
        rc, out, err = cli.run(*args, stdin=stdin, spec=spec)
        assert rc == 1, (args, out, err)
        assert want in err, (args, err)
        assert out == ""
    assert _snapshot(cli.vault) == before
    cli.assert_no_secret(SECRET)


def _with_ses(cli):
    rc, _, err = cli.run("set", "ses", "--user", "AKIAEXAMPLE", stdin=(SECRET + "\n").encode())
    assert rc == 0, err
    rc, _, err = cli.run("set", "smtp2", "--user", "AKIAOTHER", stdin=("x" * len(SECRET) + "\n").encode())
    assert rc == 0, err


def _rewrite(cli, fn):
    with open(cli.vault) as f:
        text = f.read()
    with open(cli.vault, "w") as f:       # in place: the mode stays 0600
        f.write(fn(text))


def test_refusals(cli, vdir):
    _with_ses(cli)
    good = _snapshot(cli.vault)
    other = os.path.join(vdir, "other.key")
    with open(other, "wb") as f:
        f.write(os.urandom(32))
    os.chmod(other, 0o400)
    _refused(cli, "wrong master key", spec="file:" + other)

    def swap(text):
        lines = text.split("\n")
        a, b = lines[4].split(" "), lines[5].split(" ")
        a[-2:], b[-2:] = b[-2:], a[-2:]
        lines[4], lines[5] = " ".join(a), " ".join(b)
        return "\n".join(lines)
    for what, fn, want in (
            ("user", lambda t: t.replace(" AKIAEXAMPLE ", " AKIAEXAMPLF "), "entry ses: authentication failed"),
            ("version", lambda t: t.replace(" AKIAEXAMPLE 1 ", " AKIAEXAMPLE 2 "),
             "entry ses: authentication failed"),
            ("swapped", swap, "authentication failed (tampered, or swapped"),
            ("truncated", lambda t: t[:len(t) - 20], "truncated"),
            ("foreign", lambda t: "[email-smtp.us-east-1.amazonaws.com]:587 AKIA:secret\n", "not a jaga vault file"),
            ("generation", lambda t: t.replace("generation 3", "generation 7"), "file MAC mismatch")):
        _rewrite(cli, fn)
        _refused(cli, want)
        rc, _, err = cli.run("rotate", "ses", stdin=b"zz\n")
        with open(cli.vault, "wb") as f:
            f.write(good)
    # list needs no key but still refuses what it cannot parse
    _rewrite(cli, lambda t: t[:30])
    rc, out, err = cli.run("list")
    assert rc == 1 and "bad or missing check line" in err and out == ""
    with open(cli.vault, "wb") as f:
        f.write(good)
    rc, out, err = cli.run("list")
    assert rc == 0


def test_rollback_and_permissions(cli):
    _with_ses(cli)
    old = _snapshot(cli.vault)
    rc, _, err = cli.run("rotate", "ses", stdin=(SECRET2 + "\n").encode())
    assert rc == 0, err
    with open(cli.vault, "wb") as f:
        f.write(old)
    _refused(cli, "rolled back: generation 3, but generation 4 was written")
    rc, _, err = cli.run("list")
    assert rc == 0        # the metadata alone cannot tell; every keyed verb does
    os.chmod(cli.vault, 0o644)
    rc, out, err = cli.run("list")
    assert rc == 1 and "mode 0644, want 0600 or stricter" in err
    _refused(cli, "mode 0644, want 0600 or stricter")
    os.chmod(cli.vault, 0o600)
    os.chmod(cli.key, 0o440)
    _refused(cli, "mode 0440, want 0400 or stricter")
    os.chmod(cli.key, 0o400)
    os.chown(cli.vault, 4321, 4321)
    rc, out, err = cli.run("list")
    assert rc == 1 and "owned by uid 4321" in err
    cli.assert_no_secret(SECRET, SECRET2)


def test_rekey(cli, vdir):
    _with_ses(cli)
    old_key = os.path.join(vdir, "old.key")
    shutil.copy2(cli.key, old_key)
    rc, out, err = cli.run("rekey")
    assert rc == 0, err
    assert _snapshot(cli.key) != _snapshot(old_key)
    assert stat.S_IMODE(os.stat(cli.key).st_mode) == 0o400
    assert not os.path.exists(cli.key + ".new")
    _refused(cli, "wrong master key", spec="file:" + old_key)
    rc, _, err = cli.run("rotate", "ses", stdin=(SECRET2 + "\n").encode())
    assert rc == 0, err
    # to a passphrase and back to a key file of its own
    rc, _, err = cli.run("rekey", "--to", "passphrase", stdin=b"a long pass phrase\n")
    assert rc == 0, err
    rc, _, err = cli.run("rotate", "ses", stdin=b"wrong pass phrase\nx\n", spec="passphrase")
    assert rc == 1 and "wrong master key (the passphrase" in err
    rc, _, err = cli.run("rotate", "ses", stdin=b"a long pass phrase\nnew-one\n", spec="passphrase")
    assert rc == 0, err
    rc, _, err = cli.run("rotate", "ses", stdin=b"x\n")
    assert rc == 1 and "locked with a passphrase" in err
    k2 = os.path.join(vdir, "keys2", "vault.key")
    rc, _, err = cli.run("rekey", "--to", "file:" + k2, stdin=b"a long pass phrase\n", spec="passphrase")
    assert rc == 0, err
    assert stat.S_IMODE(os.stat(k2).st_mode) == 0o400
    rc, _, err = cli.run("remove", "smtp2", spec="file:" + k2)
    assert rc == 0, err
    cli.assert_no_secret(SECRET, SECRET2, "a long pass phrase", "new-one")


def test_credentials_directory(jaga_bin, vdir):
    creds = os.path.join(vdir, "creds")
    os.mkdir(creds, 0o700)
    key = os.path.join(creds, "jaga-vault")
    with open(key, "w") as f:
        f.write(os.urandom(32).hex() + "\n")
    os.chmod(key, 0o400)
    os.mkdir(os.path.join(vdir, "state"), 0o750)
    env = dict(os.environ)
    env.pop("CREDENTIALS_DIRECTORY", None)
    c = VaultCli(jaga_bin, vdir, key="credential:jaga-vault", env=env)
    rc, _, err = c.run("init")
    assert rc == 1 and "$CREDENTIALS_DIRECTORY is not set" in err
    c.env = dict(env, CREDENTIALS_DIRECTORY=creds)
    rc, _, err = c.run("init")
    assert rc == 0, err
    rc, _, err = c.run("set", "ses", "--user", "AKIA", stdin=(SECRET + "\n").encode())
    assert rc == 0, err
    rc, _, err = c.run("rekey")
    assert rc == 1 and "needs vault_key = file:PATH" in err
    c.assert_no_secret(SECRET)


def test_age_warning(cli):
    _with_ses(cli)
    time.sleep(2.2)
    rc, out, err = cli.run("list", "--json", "-o", "vault_max_age=1s")
    assert rc == 0
    assert [e["warnings"] for e in json.loads(out)] == [["age"], ["age"]]
    assert "2 entries past vault_max_age" in err
    rc, out, err = cli.run("list", "-o", "vault_max_age=0")
    assert rc == 0 and "past vault_max_age" not in err


def test_root_hands_the_vault_to_the_state_dir_owner(cli):
    # run as root in a state_dir of the daemon's user: the vault is that
    # user's afterwards (the daemon reads it) and root can still use it
    os.chown(cli.state, 4321, 4321)
    _with_ses(cli)
    st = os.stat(cli.vault)
    assert (st.st_uid, stat.S_IMODE(st.st_mode)) == (4321, 0o600)
    assert os.stat(cli.vault + ".gen").st_uid == 4321
    rc, out, err = cli.run("list")
    assert rc == 0 and "ses" in out, err
    os.chown(cli.vault, 4322, 4322)      # anyone else: refused
    rc, out, err = cli.run("list")
    assert rc == 1 and "owned by uid 4322" in err


def test_init_warns_about_a_key_beside_the_vault(jaga_bin, vdir):
    os.mkdir(os.path.join(vdir, "state"), 0o750)
    c = VaultCli(jaga_bin, vdir, key=os.path.join(vdir, "state", "vault.key"))
    rc, out, err = c.run("init")
    assert rc == 0, err
    assert "warning: the key is in the vault's directory" in err
    c2 = VaultCli(jaga_bin, vdir + "/other")
    os.makedirs(c2.state)
    rc, out, err = c2.run("init")
    assert rc == 0 and "warning" not in err, err
