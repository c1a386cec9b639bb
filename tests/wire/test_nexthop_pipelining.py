"""MAIL and the first RCPT go to the next hop in one write when it offers
PIPELINING (next_hop_pipelining, RFC 2920): one round trip less per
message.  A sender the next hop refuses is refused at RCPT (as Postfix's
smtpd_delay_reject does); with the parameter off, or a next hop without
PIPELINING, MAIL is relayed in lockstep as before."""

import socket
import threading

from wirelib import SmtpClient, make_message


class OneShotHop:
    """A next hop that records each recv() after its EHLO reply, so a test
    can see which commands arrived together."""

    def __init__(self):
        self.lsock = socket.socket()
        self.lsock.bind(("127.0.0.1", 0))
        self.lsock.listen(4)
        self.port = self.lsock.getsockname()[1]
        self.chunks = []
        self.got_mail = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    @property
    def url(self):
        return "smtp://127.0.0.1:%d" % self.port

    def _serve(self):
        s, _ = self.lsock.accept()
        s.sendall(b"220 oneshot.test ESMTP\r\n")
        s.recv(1024)                                # EHLO
        s.sendall(b"250-oneshot.test\r\n250-PIPELINING\r\n250 8BITMIME\r\n")
        chunk = s.recv(4096)
        self.chunks.append(chunk)
        self.got_mail.set()
        while chunk.count(b"\r\n") < 2:             # without pipelining: lockstep
            s.sendall(b"250 2.1.0 Ok\r\n")
            more = s.recv(4096)
            self.chunks.append(more)
            chunk += more
        s.sendall(b"250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n")
        s.recv(1024)                                # DATA
        s.sendall(b"354 go\r\n")
        buf = b""
        while not buf.endswith(b"\r\n.\r\n"):
            buf += s.recv(65536)
        s.sendall(b"250 2.0.0 Ok: queued\r\n")
        s.recv(1024)
        s.close()


def test_mail_and_rcpt_in_one_write(jaga_factory):
    hop = OneShotHop()
    j = jaga_factory(next_hop=hop.url)
    with SmtpClient(*j.addr()) as c:
        c.greeting()
        c.ehlo()
        r = c.cmd("MAIL FROM:<alice@sender.test>")
        assert r.code == 250 and r.enh == "2.1.0", r
        assert not hop.got_mail.is_set(), "MAIL must wait for the first RCPT"
        assert c.cmd("RCPT TO:<bob@local.test>").code == 250
        assert hop.chunks[0].startswith(b"MAIL FROM:<alice@sender.test>"), hop.chunks
        assert b"\r\nRCPT TO:<bob@local.test>\r\n" in hop.chunks[0], hop.chunks
        r, end = c.data(make_message("pipelined"))
        assert end.code == 250, end


def refusing_hop(fake_hop, caps=None):
    hop = fake_hop()
    hop.mail_reply = "550 5.1.8 <alice@sender.test>: sender address rejected"
    if caps is not None:
        hop.ehlo_caps = caps
    return hop


def test_refused_sender_is_refused_at_rcpt(jaga_factory, fake_hop):
    hop = refusing_hop(fake_hop)
    j = jaga_factory(next_hop=hop.url)
    with SmtpClient(*j.addr()) as c:
        c.greeting()
        c.ehlo()
        assert c.cmd("MAIL FROM:<alice@sender.test>").code == 250
        for rcpt in ("bob@local.test", "carol@local.test"):
            r = c.cmd("RCPT TO:<%s>" % rcpt)
            assert r.code == 550 and r.enh == "5.1.8" and "sender address rejected" in r.text, r
        r = c.cmd("DATA")
        assert r.code == 554, r
        assert c.cmd("RSET").code == 250
    assert not hop.transactions
    assert j.wait_log(" smtp mail from=<alice@sender.test> code=550 enh=5.1.8 "
                      "reason=\"next hop refused it at RCPT\"")


def test_lockstep_when_off_or_not_offered(jaga_factory, fake_hop):
    off = refusing_hop(fake_hop)
    plain = refusing_hop(fake_hop, caps=["8BITMIME", "ENHANCEDSTATUSCODES"])
    for hop, opts in ((off, {"next_hop_pipelining": "no"}), (plain, {})):
        j = jaga_factory(next_hop=hop.url, opts=opts)
        with SmtpClient(*j.addr()) as c:
            c.greeting()
            c.ehlo()
            r = c.cmd("MAIL FROM:<alice@sender.test>")
            assert r.code == 550 and r.enh == "5.1.8", (opts, r)


def test_dead_kept_connection_is_replaced_at_rcpt(jaga_factory, fake_hop):
    hop = fake_hop()
    j = jaga_factory(next_hop=hop.url, opts={"workers": "1"})
    for i in range(2):
        if i == 1:
            hop.drop_at_mail = 1        # the kept connection dies under MAIL
        with SmtpClient(*j.addr()) as c:
            c.greeting()
            c.ehlo()
            assert c.cmd("MAIL FROM:<alice@sender.test>").code == 250
            r = c.cmd("RCPT TO:<bob@local.test>")
            assert r.code == 250, "a dead kept connection must not cost a 4xx: %s" % r
            r, end = c.data(make_message("kept %d" % i))
            assert end.code == 250, end
    assert len(hop.transactions) == 2
    assert hop.connections == 2
