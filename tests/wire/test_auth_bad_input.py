"""Bad AUTH input (issue 3 tests): malformed payloads, over-long names
and passwords, unknown users, unknown mechanisms.  Each gets a clear reply
with an enhanced status code, the session goes on, and nothing secret is
logged."""

import re

from conftest import PASSWORD, USER
from idents import b64
from test_commands import open_submission


def check_alive(c):
    r = c.cmd("NOOP")
    assert r.code == 250, r


def test_malformed_payloads(jaga):
    with open_submission(jaga) as c:
        r = c.cmd("AUTH PLAIN %%%not-base64%%%")
        assert r.code == 501 and r.enh == "5.5.4", r      # not even base64 characters
        r = c.cmd("AUTH PLAIN QUJD=QUJD")                   # base64 characters, bad padding
        assert r.code == 501 and r.enh == "5.5.2", r
        check_alive(c)
        r = c.cmd("AUTH PLAIN " + b64("no-nul-at-all"))
        assert r.code == 535 and r.enh == "5.7.8", r
        r = c.cmd("AUTH PLAIN " + b64("\0only-one-nul"))
        assert r.code == 535 and r.enh == "5.7.8", r
        # acting for another identity (authzid != authcid) is refused
        r = c.cmd("AUTH PLAIN " + b64("root\0%s\0%s" % (USER, PASSWORD)))
        assert r.code == 535 and r.enh == "5.7.8", r
        r = c.cmd("AUTH LOGIN")
        assert r.code == 334, r
        r = c.cmd(b64(b"us\0er"))           # NUL inside a LOGIN name
        assert r.code == 535 and r.enh == "5.7.8", r
        r = c.cmd("AUTH CRAM-MD5")
        assert r.code == 504 and r.enh == "5.5.4", r
        r = c.cmd("AUTH")
        assert r.code // 100 == 5 and r.enh.startswith("5.5."), r
        check_alive(c)
        # still usable: the right credentials work after all of that
        r = c.cmd("AUTH PLAIN " + b64("\0%s\0%s" % (USER, PASSWORD)))
        assert r.code == 235, r


def test_over_long_names_and_lines(jaga):
    with open_submission(jaga) as c:
        r = c.cmd("AUTH PLAIN " + b64("\0" + "u" * 300 + "\0" + PASSWORD))
        assert r.code == 535 and r.enh == "5.7.8", r
        r = c.cmd("AUTH PLAIN " + b64("\0%s\0%s" % (USER, "p" * 2000)))
        assert r.code == 535 and r.enh == "5.7.8", r
        check_alive(c)
        r = c.cmd("AUTH LOGIN " + b64("n" * 300))
        assert r.code == 535 and r.enh == "5.7.8", r
        check_alive(c)
    # a line longer than any AUTH line may be (RFC 4954 §4: 12288 octets)
    with open_submission(jaga) as c:
        r = c.cmd("AUTH PLAIN " + "QUFB" * 5000)
        assert r.code == 500 and r.enh == "5.5.2" and "too long" in r.text, r
    text = jaga.log_text()
    assert "u" * 300 not in text and "p" * 300 not in text
    assert PASSWORD not in text


def test_unknown_user_is_an_ordinary_failure(jaga):
    with open_submission(jaga) as c:
        r = c.cmd("AUTH PLAIN " + b64("\0nobody@local.test\0whatever"))
        assert r.code == 535 and r.enh == "5.7.8", r
        assert "Error: authentication failed" in r.text, r   # no hint that the name is unknown
        r = c.cmd("AUTH PLAIN " + b64("\0%s\0wrong" % USER))
        assert r.code == 535 and "Error: authentication failed" in r.text, r
    assert jaga.wait_log(re.compile(r" smtp auth mech=PLAIN user=nobody@local\.test "
                                    r"result=fail code=535\b"))
