"""Burst detection and limit keys beyond the identity (issue 3 §3, §4)
through the real gateway: one identity used from 6 client IPs within
minutes is suspended by the rule "burst ips=6/10m" with the IPs as
evidence; a fan-out to 31 new domains is suspended; the volume rule with
burst_action=defer defers without suspending; limits_ip and limits_sender refuse at exactly N with the right
code, on unauthenticated inbound mail too; suspend on such a key is refused
by `jaga config check`.  Client IPs are distinct loopback addresses
(127.0.2.x)."""

import json
import re
import subprocess

import idents
from idents import add_identity, jaga_cli, login
from wirelib import send_mail, make_message

NAME = "roamer@local.test"
SECRET = "Roam-Pass-1"


def run(jaga_bin, state_dir, *args, stdin=b""):
    return jaga_cli(jaga_bin, state_dir, *args, stdin=stdin)


def add_roamer(jaga_bin, state_dir):
    add_identity(jaga_bin, state_dir, NAME, SECRET)


def login_from(gateway, src):
    return login(gateway, NAME, SECRET, src)


def send_one(c, i, frm=NAME):
    """One message to a domain of its own (remote<i>.test)."""
    return idents.send_one(c, i, frm, "roaming", "rcpt%d@remote%d.test" % (i, i))


def test_six_ips_suspend_with_evidence(jaga_bin, jaga_factory, fake_hop, state_dir):
    add_roamer(jaga_bin, state_dir)
    hop = fake_hop()
    g = jaga_factory(roles=("submission",), next_hop=hop.url, state_dir=state_dir)
    ips = ["127.0.2.%d" % (10 + i) for i in range(6)]
    replies = []
    for i, ip in enumerate(ips):
        c = login_from(g, ip)
        replies.append(send_one(c, i))
        c.quit()
    assert all(r.code == 250 for r in replies[:5]), replies
    r = replies[5]
    assert r.code == 550 and r.enh == "5.7.1", r
    assert "Account %s is suspended (rule burst ips=6/10m)" % NAME in r.text, r
    assert len(hop.transactions) == 5
    assert g.wait_log(re.compile(r" smtp burst user=roamer@local\.test "
                                 r"rule=\"burst ips=6/10m\" count=6 threshold=5 "
                                 r"window=600 action=suspend"))
    assert g.wait_log(re.compile(r" smtp suspend user=roamer@local\.test "
                                 r"rule=\"burst ips=6/10m\""))
    assert SECRET not in g.log_text()

    rc, out, err = run(jaga_bin, state_dir, "suspend", "show", NAME, "--json")
    assert rc == 0, err
    j = json.loads(out)
    assert j["active"] and j["rule"] == "burst ips=6/10m", j
    ev = j["evidence"]
    assert ev["rule"] == "burst ips=6/10m" and ev["count"] == 6 and ev["limit"] == 5
    assert sorted(ev["client_ips"]) == sorted(ips), ev
    assert ev["counts"]["ips/10m"] == 6 and ev["messages"] == 6, ev
    assert ev["subjects"][-1] == "roaming 5" and len(ev["subjects"]) <= 5, ev
    assert set(ev["top_domains"]) <= {"remote%d.test" % i for i in range(6)}, ev
    assert ev["first"] <= ev["last"], ev
    # suspended: the next MAIL is refused, from the first IP too
    c = login_from(g, ips[0])
    r = c.cmd("MAIL FROM:<%s>" % NAME)
    assert r.code == 550 and "suspended" in r.text, r
    c.quit()


def test_fan_out_suspends(jaga_bin, jaga_factory, fake_hop, state_dir):
    """One message to 31 new recipient domains: more than burst_domains_floor."""
    add_roamer(jaga_bin, state_dir)
    hop = fake_hop()
    g = jaga_factory(roles=("submission",), next_hop=hop.url, state_dir=state_dir)
    c = login_from(g, "127.0.2.51")
    assert c.cmd("MAIL FROM:<%s>" % NAME).code == 250
    for i in range(30):
        assert c.cmd("RCPT TO:<x@fan%02d.test>" % i).code == 250
    r, end = c.data(b"From: roamer@local.test\r\nSubject: offer 1\r\n\r\nhi\r\n")
    assert end.code == 250, end          # 30 domains: at the floor
    assert c.cmd("MAIL FROM:<%s>" % NAME).code == 250
    assert c.cmd("RCPT TO:<y@fan30.test>").code == 250
    r, end = c.data(b"From: roamer@local.test\r\nSubject: offer 2\r\n\r\nhi\r\n")
    assert end.code == 550 and "rule burst domains=31/1h" in end.text, end
    c.quit()
    assert len(hop.transactions) == 1
    rc, out, err = run(jaga_bin, state_dir, "suspend", "show", NAME, "--json")
    assert rc == 0, err
    ev = json.loads(out)["evidence"]
    assert ev["counts"]["domains/1h"] == 31 and ev["limit"] == 30, ev
    assert len(ev["top_domains"]) == 10 and len(ev["rcpt_domains"]) == 10, ev
    assert ev["rcpt_domains"][0] == "fan30.test", ev
    assert ev["subjects"] == ["offer 1", "offer 2"], ev


def test_volume_rule_and_defer_action(jaga_bin, jaga_factory, fake_hop, state_dir):
    """burst_floor=10, burst_action=defer: the 11th message in an hour is
    deferred (451 4.7.1) and the identity is not suspended."""
    add_roamer(jaga_bin, state_dir)
    hop = fake_hop()
    g = jaga_factory(roles=("submission",), next_hop=hop.url, state_dir=state_dir,
                     opts={"burst_floor": "10", "burst_action": "defer"})
    c = login_from(g, "127.0.2.61")
    replies = [send_one(c, i) for i in range(12)]
    c.quit()
    assert [r.code for r in replies] == [250] * 10 + [451] * 2, replies
    assert replies[10].enh == "4.7.1" and "burst messages=11/1h" in replies[10].text
    assert g.wait_log(re.compile(r" smtp burst user=roamer@local\.test "
                                 r"rule=\"burst messages=11/1h\" count=11 threshold=10 "
                                 r"window=3600 action=defer"))
    assert " smtp suspend " not in g.log_text()
    rc, out, _ = run(jaga_bin, state_dir, "suspend", "list", "--json")
    assert rc == 0 and json.loads(out) == []


def inbound(jaga_factory, hop, **opts):
    return jaga_factory(roles=("inbound",), next_hop=hop.url, opts=opts)


def test_limits_ip_rejects_at_exactly_n(jaga_factory, fake_hop):
    hop = fake_hop()
    g = inbound(jaga_factory, hop, limits_ip="messages=3/1h action=reject")
    host, port = g.addr("inbound")
    codes = []
    for i in range(5):
        r = send_mail(host, port, "a%d@sender.test" % i, ["bob@local.test"],
                      make_message("ip %d" % i), src="127.0.2.31")
        codes.append((r.code, r.enh))
    assert codes == [(250, "2.0.0")] * 3 + [(550, "5.7.1")] * 2, codes
    r = send_mail(host, port, "a@sender.test", ["bob@local.test"],
                  make_message("other ip"), src="127.0.2.32")
    assert r.code == 250, r
    assert len(hop.transactions) == 4
    assert g.wait_log(re.compile(r" smtp limit key=ip:127\.0\.2\.31 thing=messages "
                                 r"window=3600 limit=3 count=3 action=reject"))


def test_limits_sender_defers_at_exactly_n(jaga_factory, fake_hop):
    hop = fake_hop()
    g = inbound(jaga_factory, hop, limits_sender="messages=2/1h",
                limits_sender_domain="rcpts=4/1h action=reject")
    host, port = g.addr("inbound")
    r1 = send_mail(host, port, "Ann@Sender.test", ["bob@local.test"], make_message("1"),
                   src="127.0.2.41")
    r2 = send_mail(host, port, "Ann@sender.test", ["bob@local.test"], make_message("2"),
                   src="127.0.2.42")
    # the domain is case-insensitive (RFC 5321 §2.4): the same sender
    r3 = send_mail(host, port, "Ann@SENDER.TEST", ["bob@local.test"], make_message("3"),
                   src="127.0.2.43")
    assert (r1.code, r2.code) == (250, 250), (r1, r2)
    assert r3.code == 451 and r3.enh == "4.7.1", r3
    assert "messages=2/3600s action=defer" in r3.text, r3
    # the deferred message counted nothing under sdom: two more fit in 4
    for i in range(2):
        r = send_mail(host, port, "other%d@sender.test" % i, ["bob@local.test"],
                      make_message("o%d" % i), src="127.0.2.44")
        assert r.code == 250, r
    r = send_mail(host, port, "third@sender.test", ["bob@local.test"], make_message("x"),
                  src="127.0.2.44")
    assert r.code == 550 and r.enh == "5.7.1", r
    assert g.wait_log(re.compile(r" smtp limit key=snd:Ann@sender\.test thing=messages "
                                 r"window=3600 limit=2 count=2 action=defer"))
    assert g.wait_log(re.compile(r" smtp limit key=sdom:sender\.test thing=rcpts "
                                 r"window=3600 limit=4 count=4 action=reject"))
    assert len(hop.transactions) == 4


def test_suspend_on_other_keys_refused_by_config_check(jaga_bin):
    r = subprocess.run([jaga_bin, "config", "check", "-o",
                        "limits_ip=messages=5/1h action=suspend"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    out = (r.stdout + r.stderr).decode(errors="replace")
    assert r.returncode != 0, out
    assert "limits_ip" in out and "suspend" in out, out
