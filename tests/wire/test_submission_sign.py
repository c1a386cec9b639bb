"""DKIM signing of authenticated submissions (issue 5 §5): the header From:
domain picks the keys of dkim_key_table (RSA, Ed25519 or both), the
identity must be allowed the domain, a domain without a key goes unsigned
with a log line, a bad key table stops `jaga serve` naming file:line, and
an inbound listener never signs.  What the next hop received verifies with
dkimpy and with `jaga dkim verify`; the public keys come from a TXT table
(--dns-file, dkimpy's dnsfunc): nothing leaves the machine."""

import os
import re
import subprocess

import dkim
import pytest

import idents
from wirelib import Jaga, SmtpClient, free_port

PASSWORD = "Sign-Pass-42x"
# domain -> [(selector, type)]
KEYS = {
    "example.org": [("r1", "rsa"), ("e1", "ed25519")],
    "rsa.test": [("r2", "rsa")],
    "ed.test": [("e2", "ed25519")],
    "other.test": [("r3", "rsa")],
    "apps": [("a1", "ed25519")],
}


def run(args, stdin=b""):
    return subprocess.run(args, input=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          timeout=60)


@pytest.fixture(scope="module")
def keys(jaga_bin, tmp_path_factory):
    """Keys made by `jaga dkim keygen`, the key table naming them, the TXT
    records as a --dns-file and as a dict for dkimpy."""
    d = tmp_path_factory.mktemp("signkeys")
    os.chmod(d, 0o700)
    txt, table = {}, []
    for domain, sels in KEYS.items():
        for sel, typ in sels:
            path = d / ("%s.%s.key" % (domain, sel))
            r = run([jaga_bin, "dkim", "keygen", "--domain", domain, "--selector", sel,
                     "--type", typ, "--out", str(path)])
            assert r.returncode == 0, r.stderr
            m = re.match(r'^(\S+)\. IN TXT \( (.*) \)$', r.stdout.decode().strip())
            assert m, r.stdout
            txt[m.group(1)] = "".join(re.findall(r'"([^"]*)"', m.group(2)))
            table.append("%s %s %s\n" % (domain, sel, path))
    (d / "keytable").write_text("# domain selector keyfile\n" + "".join(table))
    (d / "dns.txt").write_text("".join("%s %s\n" % kv for kv in txt.items()))
    return d, txt


@pytest.fixture
def gw(jaga_bin, state_dir, jaga_factory, fake_hop, keys):
    """jaga with inbound and submission listeners signing with the table;
    identities: shop (restricted to three signing domains and nokey.test),
    app1 (may send as anyone), app@apps (may send as anyone, its name is
    in the signing domain "apps")."""
    d, _ = keys
    idents.add_identity(jaga_bin, state_dir, "shop", PASSWORD, "--sender", "@example.org",
                        "--sender", "@rsa.test", "--sender", "@ed.test", "--sender", "@nokey.test")
    idents.add_identity(jaga_bin, state_dir, "app1", PASSWORD)
    idents.add_identity(jaga_bin, state_dir, "app@apps", PASSWORD)
    hop = fake_hop()
    j = jaga_factory(roles=("inbound", "submission"), state_dir=state_dir, next_hop=hop.url,
                     opts={"dkim_key_table": str(d / "keytable")})
    return j, hop


def submit(j, user, frm, subject, env_from=None):
    with idents.login(j, user, PASSWORD) as c:
        r = c.cmd("MAIL FROM:<%s>" % (env_from or frm))
        assert r.code == 250, r
        assert c.cmd("RCPT TO:<bob@remote.test>").code == 250
        r1, r2 = c.data(("From: Someone <%s>\r\nTo: bob@remote.test\r\nSubject: %s\r\n"
                         "Date: Mon, 23 Nov 2026 10:00:00 +0000\r\n"
                         "Message-ID: <%s@jaga.test>\r\n\r\nHello,\r\n\r\nthe body.\r\n"
                         % (frm, subject, subject.replace(" ", "."))).encode())
        assert r1.code == 354, r1
        return r2


def received(hop, subject):
    got = [t["data"] for t in hop.transactions if b"Subject: " + subject.encode() in t["data"]]
    assert len(got) == 1, hop.transactions
    return got[0]


def headers(msg):
    """The header field names, in order."""
    head = msg.split(b"\r\n\r\n", 1)[0]
    return [l.split(b":", 1)[0].lower() for l in head.split(b"\r\n") if l[:1] not in (b" ", b"\t")]


def dkimpy_verify(msg, txt):
    def dns(name, timeout=5):
        return txt.get(name.decode().rstrip("."), "").encode()
    def one(i):
        try:
            return dkim.DKIM(msg).verify(idx=i, dnsfunc=dns)
        except dkim.DKIMException:
            return False
    return [one(i) for i in range(headers(msg).count(b"dkim-signature"))]


def jaga_verify(jaga_bin, msg, d):
    r = run([jaga_bin, "dkim", "verify", "--dns-file", str(d / "dns.txt")], msg)
    return r.returncode, r.stdout.decode()


@pytest.mark.parametrize("domain,algs", [
    ("example.org", ["rsa-sha256", "ed25519-sha256"]),
    ("rsa.test", ["rsa-sha256"]),
    ("ed.test", ["ed25519-sha256"]),
])
def test_signed_verifies(jaga_bin, gw, keys, domain, algs):
    j, hop = gw
    d, txt = keys
    subject = "signed %s" % domain
    assert submit(j, "shop", "alice@" + domain.upper(), subject).code == 250
    msg = received(hop, subject)
    names = headers(msg)
    # the signatures on top, above our Received:, which they do not cover
    assert names[:len(algs) + 1] == [b"dkim-signature"] * len(algs) + [b"received"], names
    sigs = re.findall(rb"DKIM-Signature:(.*?)\r\n(?=\S)", msg, re.S)
    assert [re.search(rb"a=([\w-]+)", s).group(1).decode() for s in sigs] == algs
    for s in sigs:
        flat = re.sub(rb"\s+", b"", s)
        assert b"d=" + domain.encode() + b";" in flat and b"c=relaxed/relaxed;" in flat, s
        assert b"received" not in re.search(rb"h=([^;]*)", flat).group(1).lower(), s
        assert re.search(rb"t=\d+;", flat), s
    assert dkimpy_verify(msg, txt) == [True] * len(algs)
    code, out = jaga_verify(jaga_bin, msg, d)
    assert code == 0 and out.count("result=pass") == len(algs), out
    # a changed body no longer verifies: the signature covers it
    bad = msg.replace(b"the body.", b"the b0dy.")
    assert dkimpy_verify(bad, txt) == [False] * len(algs)
    line = j.wait_log(re.compile(r" smtp sign result=signed domain=%s selector=(\S+) "
                                 r"algorithm=(\S+) user=shop" % re.escape(domain)))
    assert line, j.log_text()
    m = re.search(r"selector=(\S+) algorithm=(\S+)", line)
    assert m.group(1) == ",".join(s for s, _ in KEYS[domain])
    assert m.group(2) == ",".join(algs)
    assert "BEGIN" not in j.log_text() and "PRIVATE" not in j.log_text()


def test_restricted_identity_refused_before_signing(gw):
    j, hop = gw
    # other.test has a key, but shop may not use it: sender enforcement
    # refuses the From: at the end of DATA, nothing is signed or sent
    r = submit(j, "shop", "ceo@other.test", "foreign", env_from="shop@example.org")
    assert r.code == 550 and r.enh == "5.7.1", r
    assert hop.transactions == []
    assert " smtp sign " not in j.log_text()


def test_unrestricted_identity_not_signed(gw):
    j, hop = gw
    # app1 may send as anyone; even with MAIL FROM matching From: its mail
    # gets no signature: a leaked password must not sign for the domain
    assert submit(j, "app1", "alice@example.org", "unrestricted").code == 250
    msg = received(hop, "unrestricted")
    assert b"dkim-signature" not in headers(msg), msg
    assert j.wait_log(re.compile(r" smtp sign result=skipped domain=example\.org "
                                 r'reason="identity may send as anyone" user=app1'))


def test_unrestricted_identity_own_domain_signed(jaga_bin, gw, keys):
    j, hop = gw
    d, txt = keys
    assert submit(j, "app@apps", "robot@apps", "own domain").code == 250
    msg = received(hop, "own domain")
    assert dkimpy_verify(msg, txt) == [True]
    assert submit(j, "app@apps", "robot@example.org", "not own").code == 250
    assert b"dkim-signature" not in headers(received(hop, "not own"))
    assert j.wait_log(re.compile(r" smtp sign result=skipped domain=example\.org .*user=app@apps"))


def test_domain_without_key_unsigned(gw):
    j, hop = gw
    assert submit(j, "shop", "alice@nokey.test", "no key").code == 250
    msg = received(hop, "no key")
    assert b"dkim-signature" not in headers(msg), msg
    assert j.wait_log(re.compile(r' smtp sign result=skipped domain=nokey\.test '
                                 r'reason="no key for the domain" user=shop'))


def test_inbound_never_signs(gw):
    j, hop = gw
    with SmtpClient(*j.addr("inbound")) as c:
        assert c.greeting().code == 220
        assert c.ehlo().code == 250
        assert c.cmd("MAIL FROM:<alice@example.org>").code == 250
        assert c.cmd("RCPT TO:<bob@local.test>").code == 250
        r1, r2 = c.data(b"From: alice@example.org\r\nTo: bob@local.test\r\n"
                        b"Subject: inbound\r\n\r\nhi\r\n")
        assert r2.code == 250, r2
    msg = received(hop, "inbound")
    assert b"dkim-signature" not in headers(msg), msg
    assert " smtp sign " not in j.log_text()


def bad_table(d, name, lines):
    p = d / name
    p.write_text("# a bad table\n" + "".join(l + "\n" for l in lines))
    return p


def serve_fails(jaga_bin, state_dir, table):
    """`jaga serve` with this table: it must exit (not become ready) and
    say why; `jaga config check` says the same."""
    j = Jaga(listeners={"submission": ("127.0.0.1", free_port())}, state_dir=state_dir,
             opts={"dkim_key_table": str(table)})
    with pytest.raises(RuntimeError) as e:
        j.start(timeout=15)
    assert not j.alive()
    r = run([jaga_bin, "config", "check", "-o", "state_dir=" + state_dir,
             "-o", "dkim_key_table=" + str(table)])
    assert r.returncode == 1, r
    return str(e.value), r.stderr.decode()


def test_bad_key_table_stops_start(jaga_bin, state_dir, keys, tmp_path):
    d, _ = keys
    good = d / "example.org.r1.key"
    cases = []
    missing = bad_table(tmp_path, "missing", ["example.org r1 %s" % good,
                                              "rsa.test r2 %s/none.key" % tmp_path])
    cases.append((missing, r"missing:3: key file \S+none\.key: No such file"))
    open_key = tmp_path / "open.key"
    open_key.write_bytes(good.read_bytes())
    os.chmod(open_key, 0o644)
    cases.append((bad_table(tmp_path, "open", ["example.org r1 %s" % open_key]),
                  r"open:2: key file \S+open\.key may be read or written by group or others "
                  r"\(mode 0644\)"))
    small = tmp_path / "small.key"
    r = run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:768",
             "-out", str(small)])
    assert r.returncode == 0, r.stderr
    os.chmod(small, 0o600)
    cases.append((bad_table(tmp_path, "small", ["", "example.org r1 %s" % small]),
                  r"small:3: key file \S+small\.key: key refused: only RSA of 1024 bits"))
    cases.append((bad_table(tmp_path, "syntax", ["example.org r1"]),
                  r"syntax:2: KEYFILE missing"))
    cases.append((bad_table(tmp_path, "tworsa", ["example.org r1 %s" % good,
                                                 "example.org r9 %s" % good]),
                  r"tworsa:3: example\.org has an RSA key already \(line 2\)"))
    for table, want in cases:
        log, check = serve_fails(jaga_bin, state_dir, table)
        assert re.search(r"dkim_key_table: \S*" + want, log), log
        assert re.search(r"dkim_key_table: \S*" + want, check), check
    assert "PRIVATE" not in log
