"""jaga dmarc check (issue 5 §5) end to end: SPF, DKIM and DMARC of one
message through libunbound, forwarding to the authoritative test server
of tests/wire/dnsserver.py.  A pass through SPF alone, through DKIM alone
(signed by jaga dkim sign), a forged From: under p=reject, a domain
without a record, a _dmarc name that times out, and pct= sampling."""

import re
import subprocess

import pytest

SERVID = "mx.jaga.example"
MSG = (b"From: Alice <alice@example.org>\r\n"
       b"To: bob@example.net\r\n"
       b"Subject: dinner\r\n"
       b"Date: Mon, 23 Nov 2026 10:00:00 +0000\r\n"
       b"Message-ID: <dmarc-cli-1@example.org>\r\n"
       b"\r\n"
       b"Is dinner ready?\r\n")
GOOD_IP = "192.0.2.10"
BAD_IP = "203.0.113.5"


def run(args, data=None):
    return subprocess.run(args, input=data, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, timeout=60)


@pytest.fixture(scope="module")
def key(jaga_bin, tmp_path_factory):
    """An Ed25519 key made by jaga dkim keygen: (file, TXT value)."""
    d = tmp_path_factory.mktemp("dmarckeys")
    r = run([jaga_bin, "dkim", "keygen", "--domain", "example.org",
             "--selector", "e1", "--type", "ed25519",
             "--out", str(d / "e1.key")])
    assert r.returncode == 0, r.stderr
    txt = "".join(re.findall(r'"([^"]*)"', r.stdout.decode()))
    assert txt.startswith("v=DKIM1"), r.stdout
    return d / "e1.key", txt


@pytest.fixture
def zone(dns_server, key):
    dns_server.set_zone({
        "example.org": [{"TXT": "v=spf1 ip4:192.0.2.0/24 -all"}],
        "_dmarc.example.org": [{"TXT": "v=DMARC1; p=reject"}],
        "mail.example.org": [{"TXT": "v=spf1 ip4:192.0.2.10 -all"}],
        "e1._domainkey.example.org": [{"TXT": key[1]}],
        "nodmarc.example.net": [{"TXT": "v=spf1 ip4:192.0.2.0/24 -all"}],
        "slow.example.net": [{"TXT": "v=spf1 ip4:192.0.2.0/24 -all"}],
        "_dmarc.slow.example.net": ["TIMEOUT"],
        "pct.example.net": [{"TXT": "v=spf1 -all"}],
        "_dmarc.pct.example.net": [{"TXT": "v=DMARC1; p=reject; pct=50"}],
    })
    return dns_server


def check(jaga_bin, srv, ip, sender, msg, *extra):
    """(exit status, the A-R header unfolded, the disposition line)."""
    argv = [jaga_bin, "dmarc", "check", "--ip", ip, "--sender", sender,
            "--helo", "mail.example.org", "--resolver", srv.address,
            "--authserv-id", SERVID, "-o", "dns_timeout=1s"] + list(extra)
    r = run(argv, msg)
    out = r.stdout.decode()
    assert out.startswith("Authentication-Results: %s;\n" % SERVID), \
        (r.returncode, out, r.stderr)
    lines = out.splitlines()
    assert lines[-1].startswith("disposition: "), out
    header = re.sub(r"\n[ \t]+", " ", "\n".join(lines[:-1]))
    assert all(len(x) <= 78 for x in lines[:-1]), out
    return r.returncode, header, lines[-1]


def test_pass_via_spf(jaga_bin, zone):
    rc, ar, disp = check(jaga_bin, zone, GOOD_IP, "alice@example.org", MSG)
    assert rc == 0, ar
    assert "spf=pass smtp.mailfrom=alice@example.org;" in ar
    assert "dkim=none;" in ar
    assert ar.endswith("dmarc=pass (p=reject sp=reject dis=none) "
                       "header.from=example.org"), ar
    assert disp == "disposition: none policy=reject"
    asked = [q[0].rstrip(".").lower() for q in zone.queries]
    assert "_dmarc.example.org" in asked and "example.org" in asked


def test_pass_via_dkim(jaga_bin, zone, key):
    r = run([jaga_bin, "dkim", "sign", "--domain", "example.org",
             "--selector", "e1", "--key", str(key[0])], MSG)
    assert r.returncode == 0, r.stderr
    signed = r.stdout
    b = re.search(rb"\bb=([A-Za-z0-9+/]{8})", signed).group(1).decode()
    rc, ar, disp = check(jaga_bin, zone, BAD_IP, "alice@example.org",
                         signed)
    assert rc == 0, ar
    assert "spf=fail smtp.mailfrom=alice@example.org;" in ar
    assert ("dkim=pass (good signature) header.d=example.org header.s=e1 "
            "header.a=ed25519-sha256 header.b=%s;" % b) in ar, ar
    assert "dmarc=pass (p=reject sp=reject dis=none)" in ar
    assert disp == "disposition: none policy=reject"
    # the same signature over a changed body: no pass left
    rc, ar, disp = check(jaga_bin, zone, BAD_IP, "alice@example.org",
                         signed.replace(b"dinner ready", b"dinner READY"))
    assert rc == 1 and "dkim=fail" in ar and "dmarc=fail" in ar, ar
    assert disp == "disposition: reject policy=reject"


def test_forged_from_rejected(jaga_bin, zone):
    rc, ar, disp = check(jaga_bin, zone, BAD_IP, "alice@example.org", MSG)
    assert rc == 1
    assert "dmarc=fail (p=reject sp=reject dis=reject) header.from=example.org" in ar
    assert disp == "disposition: reject policy=reject"
    # null sender: the HELO identity decides SPF, and it fails too
    rc, ar, disp = check(jaga_bin, zone, BAD_IP, "", MSG)
    assert rc == 1 and "spf=fail smtp.helo=mail.example.org;" in ar, ar
    assert disp == "disposition: reject policy=reject"
    # ... and from the host the HELO name allows, DMARC passes through it
    rc, ar, disp = check(jaga_bin, zone, GOOD_IP, "", MSG)
    assert rc == 0 and "spf=pass smtp.helo=mail.example.org;" in ar, ar


def test_no_record(jaga_bin, zone):
    msg = MSG.replace(b"alice@example.org", b"alice@nodmarc.example.net")
    rc, ar, disp = check(jaga_bin, zone, GOOD_IP,
                         "alice@nodmarc.example.net", msg)
    assert rc == 1
    assert "spf=pass" in ar
    assert ar.endswith("dmarc=none header.from=nodmarc.example.net"), ar
    assert disp == "disposition: none"


def test_dmarc_timeout_is_temperror(jaga_bin, zone):
    msg = MSG.replace(b"alice@example.org", b"alice@slow.example.net")
    rc, ar, disp = check(jaga_bin, zone, GOOD_IP, "alice@slow.example.net",
                         msg)
    assert rc == 1
    assert "dmarc=temperror (" in ar, ar
    assert "header.from=slow.example.net" in ar
    assert disp == "disposition: none"


def test_pct_sampled_out(jaga_bin, zone):
    msg = MSG.replace(b"alice@example.org", b"alice@pct.example.net")
    rc, ar, disp = check(jaga_bin, zone, GOOD_IP, "alice@pct.example.net",
                         msg, "--sample", "10")
    assert rc == 1 and disp == "disposition: reject policy=reject", ar
    rc, ar, disp = check(jaga_bin, zone, GOOD_IP, "alice@pct.example.net",
                         msg, "--sample", "70")
    assert rc == 1
    assert disp == "disposition: quarantine policy=reject (pct sampled out)"


def test_usage(jaga_bin):
    assert run([jaga_bin, "dmarc"]).returncode == 2
    assert run([jaga_bin, "dmarc", "check", "--ip", GOOD_IP]).returncode == 2
    r = run([jaga_bin, "dmarc", "--help"])
    assert r.returncode == 0 and b"jaga dmarc check" in r.stdout
