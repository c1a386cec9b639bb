"""Sender identity enforcement (issue 3 §2): an authenticated identity may
use only its allowed MAIL FROM (553 5.7.1) and header From: (550 5.7.1 at
the end of data, nothing reaches the next hop)."""

import re

import pytest

import idents
from test_users import user

PASSWORD = "Sender-Pass-42x"


@pytest.fixture
def setup(jaga_bin, state_dir, jaga_factory, fake_hop):
    rc, out, err = user(jaga_bin, state_dir, "add", "shop", "--sender", "@local.test",
                        "--from", "alice@local.test", "--password-stdin",
                        stdin=(PASSWORD + "\n").encode())
    assert rc == 0, err
    hop = fake_hop()
    j = jaga_factory(roles=("submission",), state_dir=state_dir, next_hop=hop.url)
    return j, hop


def login(j, name="shop", password=PASSWORD):
    return idents.login(j, name, password)


def send(c, frm_env, frm_hdr, subject):
    r = c.cmd("MAIL FROM:<%s>" % frm_env)
    if r.code != 250:
        return r
    assert c.cmd("RCPT TO:<bob@local.test>").code == 250
    r1, r2 = c.data(("From: %s\r\nTo: bob@local.test\r\nSubject: %s\r\n\r\nHello.\r\n"
                     % (frm_hdr, subject)).encode())
    assert r1.code == 354, r1
    return r2


def test_envelope_sender(setup):
    j, hop = setup
    with login(j) as c:
        assert c.cmd("MAIL FROM:<shop@local.test>").code == 250
        assert c.cmd("RSET").code == 250
        r = c.cmd("MAIL FROM:<ceo@evil.test>")
        assert r.code == 553 and r.enh == "5.7.1", r
        assert "not owned by user shop" in r.text, r
        assert c.cmd("MAIL FROM:<x@LOCAL.TEST>").code == 250
        assert c.cmd("RSET").code == 250
        assert c.cmd("MAIL FROM:<>").code == 250   # null sender allowed (DSNs)
    assert j.wait_log(re.compile(r" smtp mail from=<ceo@evil\.test> code=553 enh=5\.7\.1 reason="))


def test_header_from(setup):
    j, hop = setup
    with login(j) as c:
        r = send(c, "alice@local.test", "ceo@local.test", "forged")
        assert r.code == 550 and r.enh == "5.7.1", r
        assert "ceo@local.test" in r.text, r
        assert hop.transactions == []
        r = send(c, "alice@local.test", "Alice <alice@local.test>", "good one")
        assert r.code == 250, r
    assert len(hop.transactions) == 1
    t = hop.transactions[0]
    assert b"Subject: good one" in t["data"]
    assert b"forged" not in b"".join(x["data"] for x in hop.transactions)


def test_header_from_missing_or_twice(setup):
    j, hop = setup
    with login(j) as c:
        assert c.cmd("MAIL FROM:<alice@local.test>").code == 250
        assert c.cmd("RCPT TO:<bob@local.test>").code == 250
        r1, r2 = c.data(b"Subject: no author\r\n\r\nbody\r\n")
        assert r2.code == 550 and r2.enh == "5.7.1" and "no From:" in r2.text, r2
        assert c.cmd("MAIL FROM:<alice@local.test>").code == 250
        assert c.cmd("RCPT TO:<bob@local.test>").code == 250
        r1, r2 = c.data(b"From: alice@local.test\r\nFrom: alice@local.test\r\n"
                        b"Subject: two\r\n\r\nbody\r\n")
        assert r2.code == 550 and r2.enh == "5.7.1", r2
    assert hop.transactions == []


def test_address_name_defaults_to_itself(jaga_bin, state_dir, jaga_factory, fake_hop):
    rc, _, err = user(jaga_bin, state_dir, "add", "carol@local.test", "--password-stdin",
                      stdin=(PASSWORD + "\n").encode())
    assert rc == 0, err
    hop = fake_hop()
    j = jaga_factory(roles=("submission",), state_dir=state_dir, next_hop=hop.url)
    with login(j, "carol@local.test") as c:
        assert c.cmd("MAIL FROM:<dave@local.test>").code == 553
        assert send(c, "carol@local.test", "carol@local.test", "mine").code == 250
    assert len(hop.transactions) == 1
