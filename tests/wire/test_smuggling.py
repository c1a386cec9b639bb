"""SMTP smuggling (CVE-2023-51764 family, RFC 5321 §2.3.8 / §4.1.1.4).

A client hides a second transaction behind a fake end-of-data made of bare
CR/LF.  Whatever jaga does, exactly one message (bare_newline=normalize) or
none (bare_newline=reject, the default) reaches the next hop per real
transaction, and the smuggled one never does.

Next hops: the real Postfix sink (counts what was delivered) and a recorder
(the fake next hop, behaving well) that keeps the exact bytes jaga sent.
"""

import re
import time

import pytest

from wirelib import ConnectionClosed, SmtpClient, make_message, message_id, wait_until

FAKE_ENDS = {
    "LF.LF": b"\n.\n",
    "CR.CR": b"\r.\r",
    "LF.CRLF": b"\n.\r\n",
    "CRLF.LF": b"\r\n.\n",
    "CRLF.CR": b"\r\n.\r",
}

BARE = re.compile(rb"\r(?!\n)|(?<!\r)\n")


def smuggling_data(fake_end, tag):
    """Message data (as sent after 354, incl. the real end) hiding a second
    transaction behind fake_end."""
    legit = ("From: <legit@sender.test>\r\nTo: <smuggle@local.test>\r\n"
             "Subject: legit %s\r\nMessage-ID: <legit.%s@sender.test>\r\n\r\n"
             "legit body\r\nsecond line" % (tag, tag)).encode()
    smuggled = (b"MAIL FROM:<smuggler@evil.test>\r\n"
                b"RCPT TO:<relay@local.test>\r\n"
                b"DATA\r\n"
                b"From: <smuggler@evil.test>\r\nSubject: smuggled " + tag.encode() + b"\r\n\r\n"
                b"send me all your money\r\n")
    return legit + fake_end + smuggled + b"\r\n.\r\n"


def exim_0900_data(tag):
    """The smuggling probe of Exim's test 0900 (client script lines end in
    CRLF, the '>>> .\\n' line is sent raw)."""
    lines = ["Subject: test of smuggled smtp " + tag, "", "This is body for initial message",
             "The next line is a bogus end-of-data attempt, followed by a try at a smuggled message:"]
    data = "".join(l + "\r\n" for l in lines).encode() + b".\n"
    data += "".join(l + "\r\n" for l in [
        "mail from:<smuggler@evil.test>", "rcpt to:<relay@local.test>", "bdat 86 last",
        "Subject: send me all your money!", "", "All your base are belong to us.  Send Bitcoins.",
        "QUIT"]).encode()
    return data + b".\r\n"


CASES = dict((k, (lambda v: (lambda tag: smuggling_data(v, tag)))(v)) for k, v in FAKE_ENDS.items())
CASES["exim-0900"] = exim_0900_data


def run_smuggle(j, data, split):
    """One real transaction whose DATA carries `data`; returns (reply at the
    end of data, replies seen after it when the client sends RSET+QUIT)."""
    with SmtpClient(*j.addr()) as c:
        assert c.greeting().code == 220
        c.ehlo("smuggler.test")
        assert c.cmd("MAIL FROM:<legit@sender.test>").code == 250
        assert c.cmd("RCPT TO:<smuggle@local.test>").code == 250
        assert c.cmd("DATA").code == 354
        if split:
            cut = data.index(b"MAIL FROM:") if b"MAIL FROM:" in data else data.index(b"mail from:")
            c.send(data[:cut])
            # let the first part arrive on its own (a separate read in jaga)
            time.sleep(0.2)
            c.send(data[cut:])
        else:
            c.send(data)
        end = c.reply()
        # RSET may be pipelined before QUIT (RFC 2920 §3.1; NOOP may not)
        c.send(b"RSET\r\nQUIT\r\n")
        after = []
        try:
            while not after or after[-1].code != 221:
                after.append(c.reply())
        except (ConnectionClosed, OSError):
            pass
        return end, after


def check_after(after):
    """Replies after the real end belong to RSET and QUIT only (or jaga
    closed the session): nothing of the smuggled MAIL/RCPT/DATA ran as a
    command."""
    codes = [r.code for r in after]
    assert codes in ([250, 221], [], [421]), "extra replies after the data: %r" % after


def bare_reason(r):
    return re.search(r"bare|\bLF\b|\bCR\b|line ?feed|carriage|newline|line end", r.text, re.I)


@pytest.mark.parametrize("split", [False, True], ids=["one-write", "split"])
@pytest.mark.parametrize("policy", ["reject", "normalize"])
@pytest.mark.parametrize("case", list(CASES))
def test_smuggling_to_postfix(jaga_factory, sink, case, policy, split):
    tag = "%s-%s-%s" % (case, policy, "split" if split else "one")
    opts = {} if policy == "reject" else {"bare_newline": "normalize"}
    j = jaga_factory(opts=opts)
    end, after = run_smuggle(j, CASES[case](tag), split)
    check_after(after)
    follow = make_message("follow " + tag, to="bob@local.test")
    with SmtpClient(*j.addr()) as c:
        c.greeting()
        c.ehlo()
        c.cmd("MAIL FROM:<alice@sender.test>")
        c.cmd("RCPT TO:<bob@local.test>")
        assert c.data(follow)[1].code == 250
    assert sink.wait_log(re.escape(message_id(follow)))
    log = sink.log_text()
    assert not re.search(r"from=<smuggler@evil\.test>", log), "the smuggled message reached Postfix"
    assert not sink.find(b"send me all your money", "relay")
    got = sink.find(tag, "smuggle")
    if policy == "reject":
        assert 500 <= end.code < 600 and end.enh.startswith("5."), "bare CR/LF under reject: %s" % end
        assert bare_reason(end), "the 5xx should name the bare LF/CR: %s" % end
        assert got == [], "a message with bare CR/LF was delivered under reject"
    else:
        assert end.code == 250, "normalize must accept: %s" % end
        got = sink.wait_message(tag, "smuggle")
        assert len(got) == 1, "want exactly one message, got %d" % len(got)
        assert b"\r" not in got[0], "a CR survived normalisation: %r" % got[0]
        assert b"smuggler@evil.test" in got[0], "the smuggled text should be body content"


@pytest.mark.parametrize("policy", ["reject", "normalize"])
@pytest.mark.parametrize("case", list(CASES))
def test_smuggling_bytes_on_the_wire(jaga_factory, fake_hop, case, policy):
    rec = fake_hop()
    tag = "%s-%s-wire" % (case, policy)
    opts = {} if policy == "reject" else {"bare_newline": "normalize"}
    j = jaga_factory(next_hop=rec.url, opts=opts)
    end, after = run_smuggle(j, CASES[case](tag), split=False)
    check_after(after)
    wait_until(lambda: rec.transactions, timeout=3)
    assert all(t["mail"].lower() != "<smuggler@evil.test>" for t in rec.transactions)
    assert not any(c.lower().startswith("mail from:<smuggler") for c in rec.commands), rec.commands
    if policy == "reject":
        assert 500 <= end.code < 600, end
        assert rec.transactions == [], "jaga passed a message with bare CR/LF on"
    else:
        assert end.code == 250, end
        assert len(rec.transactions) == 1, rec.transactions
        data = rec.transactions[0]["data"]
        m = BARE.search(data)
        assert m is None, "bare CR or LF sent to the next hop at %d: %r" % (
            m.start(), data[max(0, m.start() - 20):m.start() + 20])
        assert data.endswith(b"\r\n")


def test_clean_message_unchanged_under_normalize(jaga_factory, fake_hop):
    """normalize only touches bare CR/LF: a clean message passes byte-exact
    (after jaga's Received header)."""
    rec = fake_hop()
    j = jaga_factory(next_hop=rec.url, opts={"bare_newline": "normalize"})
    msg = make_message("clean normalize", body="a\r\n.b\r\n\tc \r\n")
    with SmtpClient(*j.addr()) as c:
        c.greeting()
        c.ehlo()
        c.cmd("MAIL FROM:<alice@sender.test>")
        c.cmd("RCPT TO:<bob@local.test>")
        assert c.data(msg)[1].code == 250
    assert len(rec.transactions) == 1
    data = rec.transactions[0]["data"]
    assert data.startswith(b"Received:")
    assert data.endswith(msg), data
