"""DNS (issue 5 §1) end to end: `jaga dns` asks libunbound
(engine/dns_unbound.c), forwarding to the authoritative test server of
tests/wire/dnsserver.py on loopback, and prints what came back."""

import os
import subprocess
import time

import pytest

import wirelib

LONG = "v=spf1 " + " ".join("ip4:192.0.2.%d" % i for i in range(120)) + " -all"

ZONE = {
    "example.test": [
        {"A": "192.0.2.10"}, {"A": "192.0.2.11"}, {"AAAA": "2001:db8::10"},
        {"MX": [10, "mx1.example.test"]}, {"MX": [20, "MX2.Example.test."]},
        {"TXT": "v=spf1 mx -all"}, {"SPF": "v=spf1 -all"}, {"TXT": ""},
    ],
    "long.example.test": [{"TXT": [LONG[:200], LONG[200:450], LONG[450:]]}],
    "quote.example.test": [{"TXT": 'a"b\\c\nd'}],
    "alias.example.test": [{"CNAME": "example.test"}],
    "10.2.0.192.in-addr.arpa": [{"PTR": "mail.example.test"}],
    "empty.example.test": [{"TXT": "NONE"}],
    "slow.example.test": ["TIMEOUT"],
    "half.example.test": [{"TXT": "v=spf1 -all"}, "TIMEOUT"],
    "servfail.example.test": ["SERVFAIL"],
    "refused.example.test": ["REFUSED"],
}


@pytest.fixture
def zone(dns_server):
    dns_server.set_zone(ZONE)
    return dns_server


def dig(jaga_bin, srv, name, rtype=None, timeout="2s"):
    argv = [jaga_bin, "dns", name] + ([rtype] if rtype else []) + [
        "--resolver", srv.address, "-o", "dns_timeout=" + timeout]
    p = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    lines = p.stdout.splitlines()
    return p.returncode, lines[0].split() if lines else [], lines[1:], p.stderr


def test_a_records_and_ttl(jaga_bin, zone):
    rc, head, rrs, err = dig(jaga_bin, zone, "Example.TEST")
    assert rc == 0, err
    assert head[0] == "ok" and "records=2" in head and "ttl=300" in head
    assert sorted(rrs) == ["Example.TEST 300 A 192.0.2.10", "Example.TEST 300 A 192.0.2.11"]
    assert zone.asked("example.test", "A") >= 1


def test_aaaa(jaga_bin, zone):
    rc, head, rrs, _ = dig(jaga_bin, zone, "example.test", "AAAA")
    assert (rc, head[0], rrs) == (0, "ok", ["example.test 300 AAAA 2001:db8::10"])


def test_mx_names_lowercase_no_dot(jaga_bin, zone):
    rc, head, rrs, _ = dig(jaga_bin, zone, "example.test", "MX")
    assert rc == 0 and head[0] == "ok"
    assert sorted(rrs) == ["example.test 300 MX 10 mx1.example.test",
                           "example.test 300 MX 20 mx2.example.test"]


def test_txt_and_spf_kept_apart(jaga_bin, zone):
    rc, head, rrs, _ = dig(jaga_bin, zone, "example.test", "TXT")
    assert (rc, head[0]) == (0, "ok")
    assert sorted(rrs) == ['example.test 300 TXT ""', 'example.test 300 TXT "v=spf1 mx -all"']
    rc, head, rrs, _ = dig(jaga_bin, zone, "example.test", "SPF")     # type 99
    assert (rc, head[0], rrs) == (0, "ok", ['example.test 300 SPF "v=spf1 -all"'])


def test_txt_long_several_strings_joined(jaga_bin, zone):
    assert len(LONG) > 1400   # past the EDNS size: truncated over UDP, then TCP
    rc, head, rrs, _ = dig(jaga_bin, zone, "long.example.test", "TXT")
    assert (rc, head[0]) == (0, "ok")
    assert rrs == ['long.example.test 300 TXT "%s"' % LONG]
    assert ("long.example.test", "TXT", "tcp") in zone.queries


def test_txt_escaped_on_output(jaga_bin, zone):
    rc, head, rrs, _ = dig(jaga_bin, zone, "quote.example.test", "TXT")
    assert rrs == ['quote.example.test 300 TXT "a\\"b\\\\c\\010d"']


def test_cname_followed(jaga_bin, zone):
    rc, head, rrs, _ = dig(jaga_bin, zone, "alias.example.test", "MX")
    assert (rc, head[0]) == (0, "ok")
    assert sorted(rrs) == ["alias.example.test 300 MX 10 mx1.example.test",
                           "alias.example.test 300 MX 20 mx2.example.test"]


def test_ptr(jaga_bin, zone):
    rc, head, rrs, _ = dig(jaga_bin, zone, "10.2.0.192.in-addr.arpa", "PTR")
    assert (rc, head[0], rrs) == (0, "ok", ["10.2.0.192.in-addr.arpa 300 PTR mail.example.test"])
    rc, head, rrs, _ = dig(jaga_bin, zone, "192.0.2.10", "PTR")      # an address: reversed
    assert (rc, head[0], rrs) == (0, "ok", ["10.2.0.192.in-addr.arpa 300 PTR mail.example.test"])


@pytest.mark.parametrize("name,rtype,status", [
    ("nothere.example.test", "A", "nxdomain"),
    ("nothere.example.test", "TXT", "nxdomain"),
    ("example.test", "PTR", "nodata"),
    ("empty.example.test", "TXT", "nodata"),
    ("mx1.example.test", "A", "nxdomain"),
])
def test_nxdomain_vs_nodata(jaga_bin, zone, name, rtype, status):
    rc, head, rrs, _ = dig(jaga_bin, zone, name, rtype)
    assert (rc, head[0], rrs) == (0, status, [])
    assert "records=0" in head


def test_timeout_is_tempfail_within_the_timeout(jaga_bin, zone):
    t0 = time.monotonic()
    rc, head, rrs, _ = dig(jaga_bin, zone, "slow.example.test", "TXT", timeout="1500ms")
    took = time.monotonic() - t0
    assert (rc, head[0], rrs) == (1, "tempfail", [])
    assert 1.4 < took < 4.0, took
    assert zone.asked("slow.example.test", "TXT") >= 1     # it was asked, not refused


def test_timeout_name_still_answers_its_types(jaga_bin, zone):
    rc, head, _, _ = dig(jaga_bin, zone, "half.example.test", "TXT")
    assert (rc, head[0]) == (0, "ok")
    rc, head, _, _ = dig(jaga_bin, zone, "half.example.test", "SPF", timeout="1s")
    assert (rc, head[0]) == (1, "tempfail")


@pytest.mark.parametrize("name,status", [
    ("servfail.example.test", "tempfail"),     # RFC 7208 §5: temperror
    ("refused.example.test", "tempfail"),
])
def test_server_failure_is_tempfail_at_once(jaga_bin, zone, name, status):
    t0 = time.monotonic()
    rc, head, rrs, _ = dig(jaga_bin, zone, name, "TXT", timeout="4s")
    assert (rc, head[0], rrs) == (1, status, [])
    assert time.monotonic() - t0 < 3.5     # an answer, not the timeout
    assert zone.asked(name, "TXT") >= 1


def test_resolver_down_is_tempfail(jaga_bin, zone):
    addr = zone.address
    zone.stop()
    rc, head, _, _ = dig(jaga_bin, zone, "example.test", "A", timeout="1s")
    assert (rc, head[0]) == (1, "tempfail")
    assert addr


@pytest.mark.parametrize("argv,code,msg", [
    (["dns", "example.test", "NS"], 2, "usage"),
    (["dns"], 2, "usage"),
    (["dns", "example.test", "--resolver", "dns.example:53"], 1, "HOST[:PORT]"),
])
def test_bad_usage(jaga_bin, argv, code, msg):
    p = subprocess.run([jaga_bin] + argv, capture_output=True, text=True, timeout=30)
    assert p.returncode == code
    assert msg in p.stderr


def test_bad_name_is_permfail(jaga_bin, zone):
    rc, head, _, _ = dig(jaga_bin, zone, "a..example.test")
    assert (rc, head[0]) == (1, "permfail")
    assert zone.queries == []


def probe_bin(jaga_bin):
    # JAGA_BIN is BUILD/src/cli/jaga; the probe is BUILD/tests/unit/dns_probe
    return os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(jaga_bin))),
                        "tests", "unit", "dns_probe")


def test_threads_share_one_cache(jaga_bin, dns_server):
    names = ["h%d.example.test" % i for i in range(8)]
    for i, n in enumerate(names):
        dns_server.add(n, "A", "192.0.2.%d" % (i + 1))
    p = subprocess.run([probe_bin(jaga_bin), dns_server.address, "8", "20", "A"] + names,
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stdout + p.stderr
    assert sorted(p.stdout.splitlines()) == sorted("%s ok=160 other=0" % n for n in names)
    for n in names:     # 160 answers each, from libunbound's cache
        assert 1 <= dns_server.asked(n, "A") <= 2, (n, dns_server.queries)


def test_cache_honours_the_ttl(jaga_bin):
    from dnsserver import DNSServer
    srv = DNSServer({"short.example.test": [{"TXT": "v=spf1 -all"}]}, ttl=1).start()
    try:
        # 3 rounds 2.5 s apart: a TTL of 1 s (counted in whole seconds by
        # libunbound, so good for up to 2) makes every round ask again
        p = subprocess.run([probe_bin(jaga_bin), srv.address, "1", "3/2500", "TXT",
                            "short.example.test"], capture_output=True, text=True, timeout=60)
        assert p.returncode == 0, p.stdout + p.stderr
        assert srv.asked("short.example.test", "TXT") == 3
    finally:
        srv.stop()
    srv = DNSServer({"long.example.test": [{"TXT": "v=spf1 -all"}]}, ttl=300).start()
    try:
        p = subprocess.run([probe_bin(jaga_bin), srv.address, "1", "3/500", "TXT",
                            "long.example.test"], capture_output=True, text=True, timeout=60)
        assert p.returncode == 0, p.stdout + p.stderr
        assert srv.asked("long.example.test", "TXT") == 1
    finally:
        srv.stop()


OPENSPF = os.path.join(wirelib.TESTDATA, "spf", "openspf", "rfc7208-tests.shared.yml")


def test_openspf_zonedata_served(jaga_bin, dns_server):
    import yaml
    with open(OPENSPF) as f:
        docs = {d["description"]: d for d in yaml.safe_load_all(f)}
    for d in docs.values():     # every scenario's zone loads
        dns_server.set_zone(d["zonedata"], spf_as_txt=d["description"] != "Selecting records")
    dns_server.set_zone(docs["Record lookup"]["zonedata"], spf_as_txt=True)
    rc, head, rrs, _ = dig(jaga_bin, dns_server, "spftimeout.example.net", "TXT")
    assert (rc, head[0], rrs) == (0, "ok", ['spftimeout.example.net 300 TXT "v=spf1 -all"'])
    rc, head, _, _ = dig(jaga_bin, dns_server, "nospftxttimeout.example.net", "TXT", timeout="1s")
    assert (rc, head[0]) == (1, "tempfail")
    rc, head, rrs, _ = dig(jaga_bin, dns_server, "spfonly.example.net", "TXT")
    assert (rc, head[0]) == (0, "nodata")       # "TXT: NONE" beats spf_as_txt
    dns_server.set_zone(docs["Initial processing"]["zonedata"], spf_as_txt=True)
    rc, head, rrs, _ = dig(jaga_bin, dns_server, "hosed2.example.com", "TXT")
    assert rrs == ['hosed2.example.com 300 TXT "v=spf1 \\128a:example.net -all"']
