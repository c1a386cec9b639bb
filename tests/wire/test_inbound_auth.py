"""SPF, DKIM and DMARC on the gateway's inbound listeners (issue 5 §5).

jaga with an inbound listener resolves through the loopback DNS server
(dnsserver.py) and sends on to a FakeNextHop that records what arrives.
Clients come from distinct 127.x addresses; the domains publish:

  signed.test  SPF allows only 192.0.2.1, DMARC p=reject, a DKIM key
  quar.test    SPF -all, DMARC p=quarantine
  slow.test    SPF -all, _dmarc.slow.test never answers
  incl.test    SPF includes slowinc.test, which never answers; no DMARC
  plain.test   nothing at all

A real Postfix client (127.0.0.3, smtp_bind_address) relays a signed and
a forged message of signed.test through jaga.
"""

import os
import re
import subprocess
import time

import dkim
import pytest

from conftest import PASSWORD, USER
from idents import plain
from wirelib import SmtpClient, make_message, message_id, wait_until

SERVID = "mx.jaga.test"
CLIENT_IP = "127.0.0.5"


@pytest.fixture
def zone(jaga_bin, dns_server, tmp_path):
    """The test domains on dns_server; returns the DKIM key file."""
    key = tmp_path / "s1.key"
    r = subprocess.run([jaga_bin, "dkim", "keygen", "--domain", "signed.test",
                        "--selector", "s1", "--out", str(key)],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    assert r.returncode == 0, r.stderr
    txt = "".join(re.findall(r'"([^"]*)"', r.stdout.decode()))
    dns_server.set_zone({
        "signed.test": [{"TXT": "v=spf1 ip4:192.0.2.1 -all"}],
        "_dmarc.signed.test": [{"TXT": "v=DMARC1; p=reject"}],
        "s1._domainkey.signed.test": [{"TXT": txt}],
        "quar.test": [{"TXT": "v=spf1 -all"}],
        "_dmarc.quar.test": [{"TXT": "v=DMARC1; p=quarantine"}],
        "slow.test": [{"TXT": "v=spf1 -all"}],
        "_dmarc.slow.test": ["TIMEOUT"],
        "incl.test": [{"TXT": "v=spf1 include:slowinc.test -all"}],
        "slowinc.test": ["TIMEOUT"],
        "plain.test": [{"A": "192.0.2.9"}],
    })
    return key


@pytest.fixture
def gw(jaga_factory, fake_hop, dns_server, zone):
    """start(**opts) -> (jaga, next hop): inbound to a FakeNextHop."""
    def start(roles=("inbound",), **opts):
        hop = fake_hop()
        o = {"inbound_auth": "yes", "resolver": dns_server.address,
             "dns_timeout": "1s", "authserv_id": SERVID}
        o.update(opts)
        return jaga_factory(next_hop=hop.url, roles=roles, opts=o), hop
    return start


def sign(msg, key):
    sig = dkim.sign(msg, b"s1", b"signed.test", key.read_bytes(),
                    include_headers=[b"from", b"to", b"subject", b"date", b"message-id"])
    return sig.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n") + msg


def send(j, frm, msg, src=CLIENT_IP, helo="client.test", rcpt="bob@local.test"):
    """One transaction from src; the reply to the end of DATA."""
    with SmtpClient(*j.addr(), src=src) as c:
        assert c.greeting().code == 220
        assert c.ehlo(helo).code == 250
        assert c.cmd("MAIL FROM:<%s>" % frm).code == 250
        assert c.cmd("RCPT TO:<%s>" % rcpt).code == 250
        r1, r2 = c.data(msg)
        assert r1.code == 354, r1
        c.quit()
        return r2


def arrived(hop, mid):
    return [t["data"] for t in hop.accepted() if mid.encode() in t["data"]]


def header_block(data):
    return data.split(b"\r\n\r\n", 1)[0]


def fields(data, name):
    """The (unfolded) values of every header field called name."""
    out = []
    for f in re.split(rb"\r\n(?![ \t])", header_block(data)):
        k, _, v = f.partition(b":")
        if k.strip().lower() == name.lower().encode():
            out.append(re.sub(rb"\r\n[ \t]+", b" ", v).strip().decode())
    return out


def msgauth_line(j, mark):
    line = j.wait_log(" smtp msgauth ", start=mark, timeout=15)
    assert line, j.log_text()[-3000:]
    return line


def test_real_postfix_client_signed_passes_forged_refused(gw, postfix_factory, zone):
    j, hop = gw()
    host, port = j.addr()
    pf = postfix_factory("client", "127.0.0.3", relayhost="[%s]:%d" % (host, port),
                         extra={"smtp_bind_address": "127.0.0.3",
                                "smtp_tls_security_level": "none"})
    good = sign(make_message("signed through postfix", frm="alice@signed.test"), zone)
    mid = message_id(good)
    with SmtpClient(pf.addr, pf.port) as c:
        c.greeting()
        c.ehlo()
        assert c.cmd("MAIL FROM:<alice@signed.test>").code == 250
        assert c.cmd("RCPT TO:<bob@local.test>").code == 250
        assert c.data(good)[1].code == 250
    assert wait_until(lambda: arrived(hop, mid), timeout=30), pf.log_text()[-3000:]
    data = arrived(hop, mid)[0]
    assert data.startswith(b"Authentication-Results: " + SERVID.encode() + b";"), data[:400]
    ar = fields(data, "Authentication-Results")
    assert len(ar) == 1, ar
    assert re.search(r"\bdkim=pass\b.*header\.d=signed\.test", ar[0]), ar[0]
    assert re.search(r"\bdmarc=pass\b", ar[0]), ar[0]
    assert re.search(r"\bspf=fail\b", ar[0]), ar[0]   # 127.0.0.3 is outside its SPF
    assert re.search(r" smtp msgauth spf=fail .*dkim=pass:signed\.test dmarc=pass "
                     r".*action=accept override=-", j.log_text()), j.log_text()[-2000:]

    forged = make_message("forged through postfix", frm="ceo@signed.test")
    fmid = message_id(forged)
    mark = j.mark()
    with SmtpClient(pf.addr, pf.port) as c:
        c.greeting()
        c.ehlo()
        assert c.cmd("MAIL FROM:<ceo@signed.test>").code == 250
        assert c.cmd("RCPT TO:<bob@local.test>").code == 250
        assert c.data(forged)[1].code == 250      # Postfix queued it
    line = msgauth_line(j, mark)
    assert "dmarc=fail" in line and "policy=reject" in line and "action=reject" in line, line
    assert wait_until(lambda: re.search(r"(\w+): message-id=%s" % re.escape(fmid), pf.log_text()),
                      timeout=30)
    qid = re.search(r"(\w+): message-id=%s" % re.escape(fmid), pf.log_text()).group(1)
    st = pf.wait_log(r"%s: to=<bob@local\.test>.*status=bounced .*550 5\.7\.1 .*signed\.test publishes DMARC policy reject"
                     % qid, timeout=30)
    assert st, pf.log_text()[-3000:]
    assert not arrived(hop, fmid)


def test_forged_ar_of_our_id_removed_other_kept(gw):
    j, hop = gw()
    extra = ("Authentication-Results: %s; dmarc=pass header.from=plain.test\r\n"
             "Authentication-Results: other.example; spf=pass smtp.mailfrom=plain.test\r\n"
             "Authentication-Results: MX.JAGA.TEST; dkim=pass header.d=plain.test\r\n"
             % SERVID).encode()
    msg = make_message("forged ar", frm="a@plain.test", extra=extra)
    mark = j.mark()
    assert send(j, "a@plain.test", msg).code == 250
    data = arrived(hop, message_id(msg))[0]
    ar = fields(data, "Authentication-Results")
    assert len(ar) == 2, ar
    assert ar[0].startswith(SERVID + ";") and "dmarc=none" in ar[0], ar
    assert ar[1].startswith("other.example;"), ar
    assert "removed=2" in msgauth_line(j, mark)


@pytest.mark.parametrize("mode", ["header", "hold"])
def test_quarantine(gw, mode):
    j, hop = gw(dmarc_quarantine=mode)
    msg = make_message("quarantine " + mode, frm="x@quar.test")
    mid = message_id(msg)
    mark = j.mark()
    r = send(j, "x@quar.test", msg)
    line = msgauth_line(j, mark)
    assert "policy=quarantine" in line and "disposition=quarantine" in line, line
    if mode == "header":
        assert r.code == 250, r
        data = arrived(hop, mid)[0]
        assert fields(data, "X-Jaga-Quarantine") == [
            "dmarc=fail policy=quarantine header.from=quar.test"], header_block(data)
        assert "action=quarantine-header" in line
        return
    assert r.code == 250 and r.enh == "2.0.0", r
    m = re.search(r"held in quarantine as (\S+)", r.text)
    assert m, r
    qdir = os.path.join(j.state_dir, "quarantine")
    held = open(os.path.join(qdir, m.group(1) + ".eml"), "rb").read()
    assert mid.encode() in held and held.startswith(b"Authentication-Results: " + SERVID.encode())
    env = open(os.path.join(qdir, m.group(1) + ".env")).read()
    assert "rcpt=<bob@local.test>\n" in env and "client=%s\n" % CLIENT_IP in env, env
    assert "reason=dmarc=fail policy=quarantine header.from=quar.test\n" in env, env
    assert "action=hold" in line and "quarantine=" + m.group(1) in line, line
    time.sleep(0.3)
    assert not arrived(hop, mid)


def test_dmarc_dns_timeout_tempfails(gw):
    j, hop = gw()
    msg = make_message("slow dmarc", frm="x@slow.test")
    r = send(j, "x@slow.test", msg)
    assert r.code == 451 and r.enh == "4.4.3", r
    assert "slow.test" in r.text, r
    assert not arrived(hop, message_id(msg))


def test_dmarc_dns_timeout_accepted_when_configured(gw):
    j, hop = gw(dmarc_temperror="accept")
    msg = make_message("slow dmarc accepted", frm="x@slow.test")
    assert send(j, "x@slow.test", msg).code == 250
    ar = fields(arrived(hop, message_id(msg))[0], "Authentication-Results")
    assert "dmarc=temperror" in ar[0], ar


def test_unrelated_spf_include_timeout_goes_on(gw):
    j, hop = gw()
    msg = make_message("slow include", frm="x@incl.test")
    r = send(j, "x@incl.test", msg)
    assert r.code == 250, r
    ar = fields(arrived(hop, message_id(msg))[0], "Authentication-Results")
    assert len(ar) == 1 and re.search(r"\bspf=temperror\b", ar[0]), ar


def forged_reject(j, hop, src=CLIENT_IP, frm="ceo@signed.test"):
    msg = make_message("forged " + src + frm, frm=frm)
    mark = j.mark()
    r = send(j, frm, msg, src=src)
    return r, msgauth_line(j, mark), arrived(hop, message_id(msg))


def test_reject_without_override(gw):
    j, hop = gw(dmarc_trusted_forwarders="127.0.0.6/32")
    r, line, got = forged_reject(j, hop)
    assert r.code == 550 and r.enh == "5.7.1", r
    assert "signed.test" in r.text and "reject" in r.text, r
    assert "override=-" in line and not got


def test_trusted_forwarder_override(gw):
    j, hop = gw(dmarc_trusted_forwarders="127.0.0.6/32")
    r, line, got = forged_reject(j, hop, src="127.0.0.6")
    assert r.code == 250, r
    assert "action=accept override=trusted_forwarder" in line, line
    assert len(got) == 1 and b"dmarc=fail" in got[0]


def test_allow_domain_override(gw):
    j, hop = gw(dmarc_allow_domains="signed.test")
    r, line, got = forged_reject(j, hop, frm="ceo@news.signed.test")
    assert r.code == 250, r
    assert "action=accept override=local_policy" in line, line
    assert len(got) == 1


def test_enforce_no_monitors_only(gw):
    j, hop = gw(dmarc_enforce="no")
    r, line, got = forged_reject(j, hop)
    assert r.code == 250, r
    assert "disposition=reject" in line and "override=local_policy" in line, line
    assert len(got) == 1 and b"dmarc=fail" in got[0]


def test_inbound_auth_off(gw):
    j, hop = gw(inbound_auth="no")
    msg = make_message("auth off", frm="ceo@signed.test")
    assert send(j, "ceo@signed.test", msg).code == 250
    assert not fields(arrived(hop, message_id(msg))[0], "Authentication-Results")
    assert " smtp msgauth " not in j.log_text()


def test_authenticated_submission_untouched(gw, user_table):
    j, hop = gw(roles=("inbound", "submission"), user_table=user_table)
    c = SmtpClient(*j.addr("submission"), src=CLIENT_IP)
    assert c.greeting().code == 220
    assert c.ehlo().code == 250
    assert c.starttls().code == 220
    assert c.ehlo().code == 250
    assert c.cmd(plain(USER, PASSWORD)).code == 235
    msg = make_message("submitted", frm="ceo@signed.test", to="x@remote.test")
    assert c.cmd("MAIL FROM:<ceo@signed.test>").code == 250
    assert c.cmd("RCPT TO:<x@remote.test>").code == 250
    r1, r2 = c.data(msg)
    assert r2.code == 250, r2
    c.quit()
    data = arrived(hop, message_id(msg))[0]
    assert not fields(data, "Authentication-Results"), header_block(data)
    assert " smtp msgauth " not in j.log_text()
