"""SPF (issue 5 §2) end to end: `jaga spf` evaluates RFC 7208 through
libunbound, forwarding to the authoritative test server of
tests/wire/dnsserver.py, loaded with each scenario's zone data: the
openspf RFC 7208 suite, then pyspf's own tests.  TIMEOUT names included:
the server does not answer, the resolver times out within dns_timeout.
Every test is checked: the result word and, where the suite gives one,
the exp= explanation."""

import os
import subprocess

import pytest
import yaml

import wirelib

TESTDATA = os.path.join(wirelib.TESTDATA, "spf")
SUITES = [os.path.join(TESTDATA, "openspf", "rfc7208-tests.shared.yml"),
          os.path.join(TESTDATA, "pyspf", "pyspf-test.yml")]
DEFAULT_EXPL = "SPF fail: the domain does not authorize this host"


def scenarios():
    out = []
    for path in SUITES:
        with open(path, encoding="utf-8") as f:
            out += [d for d in yaml.safe_load_all(f) if d]
    return out


def served_zone(zone):
    """The suite's driver rule: an SPF entry also stands for a TXT record,
    unless the name has TXT of its own (RFC 7208 implementations ask TXT)."""
    out = {}
    for name, recs in (zone or {}).items():
        recs = list(recs)
        has_txt = any(isinstance(r, dict) and "TXT" in r for r in recs)
        if not has_txt:
            recs += [{"TXT": r["SPF"]} for r in recs
                     if isinstance(r, dict) and "SPF" in r]
        out[str(name)] = recs
    return out


def spf(jaga_bin, srv, t, timeout="1s"):
    argv = [jaga_bin, "spf", "--ip", str(t["host"]),
            "--sender", t.get("mailfrom", ""), "--helo", t.get("helo", ""),
            "--resolver", srv.address, "-o", "dns_timeout=" + timeout]
    p = subprocess.run(argv, capture_output=True, text=True, timeout=60,
                       errors="replace")
    return p.returncode, p.stdout.splitlines(), p.stderr


def check(result, expl, t):
    want = t["result"] if isinstance(t["result"], list) else [t["result"]]
    if result not in want:
        return "got %s, want %s" % (result, "/".join(want))
    exp = t.get("explanation")
    if exp is not None and result == "fail":
        exp = DEFAULT_EXPL if exp == "DEFAULT" else exp
        if expl != exp:
            return "explanation %r, want %r" % (expl, exp)
    return None


SCENARIOS = scenarios()


@pytest.mark.parametrize("doc", SCENARIOS, ids=[
    d.get("description") or d.get("comment") or "pyspf-%d" % i
    for i, d in enumerate(SCENARIOS)])
def test_openspf_scenario(jaga_bin, dns_server, doc):
    dns_server.set_zone(served_zone(doc.get("zonedata")))
    bad = []
    for name, t in doc["tests"].items():
        if "strict" in t:
            continue    # pyspf's modes for the obsolete default= modifier
        rc, out, err = spf(jaga_bin, dns_server, t)
        if rc != 0 or not out:
            bad.append("%s: exit %d %s" % (name, rc, err.strip()))
            continue
        word, _, expl = out[0].partition(" ")
        why = check(word, expl, t)
        if why:
            bad.append("%s: %s" % (name, why))
    assert not bad, "\n".join(bad)


def test_header_and_helo_identity(jaga_bin, dns_server):
    dns_server.set_zone({"mail.example.test": [{"TXT": "v=spf1 a -all"},
                                               {"A": "192.0.2.7"}]})
    rc, out, _ = spf(jaga_bin, dns_server, {"host": "192.0.2.7", "mailfrom": "",
                                            "helo": "mail.example.test"})
    assert rc == 0 and out[0].split()[0] == "pass"
    assert out[1].startswith("Received-SPF: pass (")
    assert "identity=helo" in out[1] and "mechanism=a" in out[1]
    assert dns_server.asked("mail.example.test", "TXT") >= 1


def test_usage(jaga_bin):
    p = subprocess.run([jaga_bin, "spf", "--ip", "192.0.2.1"],
                       capture_output=True, text=True)
    assert p.returncode == 2 and "usage" in p.stderr
