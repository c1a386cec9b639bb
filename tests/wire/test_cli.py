"""The command line around `jaga serve`: --version, --help, config check,
and serve -c FILE."""

import re
import shutil
import subprocess

from wirelib import SmtpClient, free_port, make_tempdir


def run(args, **kw):
    return subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30, **kw)


def test_version(jaga_bin):
    r = run([jaga_bin, "--version"])
    assert r.returncode == 0, r
    assert re.search(rb"\b\d+\.\d+\.\d+\b", r.stdout), r.stdout


def test_serve_help(jaga_bin):
    r = run([jaga_bin, "serve", "--help"])
    assert r.returncode == 0, r
    for opt in (b"--listen", b"--next-hop", b"--local-domain", b"-o", b"-c"):
        assert opt in r.stdout, (opt, r.stdout)


def test_config_check(jaga_bin, tmp_path):
    good = tmp_path / "good.cf"
    good.write_text("# a comment\nmessage_size_limit = 50k\nmax_recipients = 200\n"
                    "local_domains = local.test, other.test\n")
    r = run([jaga_bin, "config", "check", "-c", str(good)])
    assert r.returncode == 0, (r.stdout, r.stderr)

    bad = tmp_path / "bad.cf"
    bad.write_text("# comment\nmax_recipients = 5\nno_such_parameter = 1\nbare_newline = maybe\n")
    r = run([jaga_bin, "config", "check", "-c", str(bad)])
    assert r.returncode == 1, (r.returncode, r.stdout, r.stderr)
    out = (r.stdout + r.stderr).decode()
    for lineno, param in ((2, "max_recipients"), (3, "no_such_parameter"), (4, "bare_newline")):
        assert re.search(r"^%s:%d: %s: \S" % (re.escape(str(bad)), lineno, param), out, re.M), out


def test_serve_refuses_bad_option(jaga_bin):
    d = make_tempdir("jaga-badopt-")
    try:
        r = run([jaga_bin, "serve", "-o", "state_dir=" + d, "-o", "max_recipients=5",
                 "--listen", "inbound=127.0.0.1:%d" % free_port(), "--local-domain", "local.test",
                 "--next-hop", "smtp://127.0.0.2:25"])
    finally:
        shutil.rmtree(d, ignore_errors=True)
    assert r.returncode != 0
    assert b"max_recipients" in r.stderr, r.stderr


def test_serve_with_config_file(jaga_factory, tmp_path):
    cf = tmp_path / "jaga.cf"
    cf.write_text("message_size_limit = 50k\nmyhostname = cf.jaga.test\n")
    j = jaga_factory(config_file=str(cf))
    with SmtpClient(*j.addr()) as c:
        g = c.greeting()
        assert "cf.jaga.test" in g.text, g
        c.ehlo()
        assert int(c.caps["SIZE"]) in (50000, 51200), c.caps
