"""Kept next-hop connections (next_hop_cache) and half-closing clients."""
import socket
import time

from wirelib import SmtpClient, make_message, try_transaction


def _send(j, subject):
    return try_transaction(*j.addr(), "alice@sender.test", ["bob@local.test"],
                           make_message(subject))


def test_sessions_reuse_one_next_hop_connection(jaga_factory, fake_hop):
    hop = fake_hop()
    j = jaga_factory(next_hop=hop.url, opts={"workers": "1"})
    for i in range(3):
        t = _send(j, "reuse %d" % i)
        assert t.delivered, t
    assert len(hop.accepted()) == 3
    assert hop.connections == 1, "three sessions, one next-hop connection"
    # between transactions the next hop saw its transaction end, not QUIT
    assert "QUIT" not in hop.commands


def test_cache_off_opens_one_connection_per_session(jaga_factory, fake_hop):
    hop = fake_hop()
    j = jaga_factory(next_hop=hop.url,
                     opts={"workers": "1", "next_hop_cache": "0"})
    for i in range(2):
        assert _send(j, "nocache %d" % i).delivered
    assert hop.connections == 2


def test_kept_connection_closed_by_next_hop_is_replaced(jaga_factory, fake_hop):
    hop = fake_hop()
    j = jaga_factory(next_hop=hop.url, opts={"workers": "1"})
    assert _send(j, "before").delivered
    hop.drop_connections()
    time.sleep(0.2)
    t = _send(j, "after")
    assert t.delivered, "a dead kept connection must not cost the client a 4xx: %s" % t
    assert len(hop.accepted()) == 2
    assert hop.connections == 2


def test_kept_connections_expire(jaga_factory, fake_hop):
    hop = fake_hop()
    j = jaga_factory(next_hop=hop.url,
                     opts={"workers": "1", "next_hop_cache_time": "500ms"})
    assert _send(j, "expire").delivered
    deadline = time.time() + 5
    while time.time() < deadline and "QUIT" not in hop.commands:
        time.sleep(0.1)
    assert "QUIT" in hop.commands, "an idle kept connection is closed with QUIT"


def test_half_closed_pipelining_client_gets_every_answer(jaga_factory, fake_hop):
    hop = fake_hop()
    j = jaga_factory(next_hop=hop.url)
    c = SmtpClient(*j.addr())
    c.greeting()
    c.ehlo()
    c.send(b"MAIL FROM:<alice@sender.test>\r\nRCPT TO:<bob@local.test>\r\nDATA\r\n")
    assert [r.code for r in c.replies(3)] == [250, 250, 354]
    c.send(make_message("half close") + b".\r\nQUIT\r\n")
    c.sock.shutdown(socket.SHUT_WR)
    r = c.reply()
    assert r.code == 250, r
    assert c.reply().code == 221
    assert c.is_closed()
    assert len(hop.accepted()) == 1
