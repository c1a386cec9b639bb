"""Helpers the identity tests share: run a `jaga` subcommand against a
state directory, add an identity, AUTH on the submission port (optionally
from a given client IP), send one small message, base64 for AUTH."""

import base64
import subprocess

from wirelib import SmtpClient


def b64(s):
    if isinstance(s, str):
        s = s.encode()
    return base64.b64encode(s).decode()


def plain(user, password):
    """An AUTH PLAIN command line with the initial response (RFC 4616)."""
    return "AUTH PLAIN " + b64("\0%s\0%s" % (user, password))


def jaga_cli(jaga_bin, state_dir, *args, stdin=b""):
    """`jaga ARGS -o state_dir=DIR`: (exit status, stdout, stderr)."""
    r = subprocess.run([jaga_bin, *args, "-o", "state_dir=" + state_dir],
                       input=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    return r.returncode, r.stdout.decode(errors="replace"), r.stderr.decode(errors="replace")


def add_identity(jaga_bin, state_dir, name, password, *options):
    """`jaga user add NAME OPTIONS --password-stdin`; asserts success."""
    rc, _, err = jaga_cli(jaga_bin, state_dir, "user", "add", name, *options,
                          "--password-stdin", stdin=(password + "\n").encode())
    assert rc == 0, err


def submission(gateway, src=None):
    """A client on the submission port after EHLO, STARTTLS and EHLO."""
    c = SmtpClient(*gateway.addr("submission"), src=src)
    assert c.greeting().code == 220
    assert c.ehlo().code == 250
    assert c.starttls().code == 220
    assert c.ehlo().code == 250
    return c


def login(gateway, name, password, src=None):
    """An authenticated submission client; asserts 235."""
    c = submission(gateway, src)
    r = c.cmd(plain(name, password))
    assert r.code == 235, r
    return c


def send_one(c, i, frm, subject="msg", rcpt=None):
    """One message from frm (envelope and From:); returns the reply that
    ended it (MAIL's, RCPT's or the end of DATA's)."""
    rcpt = rcpt or "rcpt%d@remote.test" % i
    r = c.cmd("MAIL FROM:<%s>" % frm)
    if r.code != 250:
        return r
    r = c.cmd("RCPT TO:<%s>" % rcpt)
    if r.code != 250:
        c.cmd("RSET")
        return r
    msg = ("From: %s\r\nTo: %s\r\nSubject: %s %d\r\n\r\nhi\r\n" % (frm, rcpt, subject, i)).encode()
    r, end = c.data(msg)
    assert r.code == 354, r
    return end
