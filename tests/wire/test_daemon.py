"""The daemon's life: a graceful stop on SIGTERM, dropping root (run_as)."""
import os
import signal
import time

import pytest

from wirelib import SmtpClient, make_message, try_transaction


def _new_files(j):
    new = os.path.join(j.state_dir, "Maildir", "new")
    return os.listdir(new) if os.path.isdir(new) else []


def test_sigterm_finishes_the_transaction_in_flight(jaga_factory):
    j = jaga_factory(next_hop="maildir:Maildir",
                     opts={"shutdown_timeout": "10s"})
    idle = SmtpClient(*j.addr())
    idle.greeting()
    idle.ehlo()
    busy = SmtpClient(*j.addr())
    busy.greeting()
    busy.ehlo()
    assert busy.cmd("MAIL FROM:<alice@sender.test>").code == 250
    assert busy.cmd("RCPT TO:<bob@local.test>").code == 250
    assert busy.cmd("DATA").code == 354
    busy.send(b"Subject: in flight\r\n\r\nstill coming\r\n")

    os.kill(j.proc.pid, signal.SIGTERM)
    r = idle.reply()
    assert (r.code, r.enh) == (421, "4.3.2"), r
    assert idle.is_closed()

    busy.send(b".\r\n")
    r = busy.reply()
    assert r.code == 250, "a message in flight must still be answered: %s" % r
    r = busy.reply()
    assert (r.code, r.enh) == (421, "4.3.2"), r
    assert busy.is_closed()
    assert len(_new_files(j)) == 1
    j.proc.wait(timeout=10)
    assert j.proc.returncode == 0


def test_sigterm_refuses_new_connections(jaga_factory):
    j = jaga_factory()
    c = SmtpClient(*j.addr())
    c.greeting()
    os.kill(j.proc.pid, signal.SIGTERM)
    assert c.reply().code == 421
    deadline = time.time() + 5
    while time.time() < deadline:
        try:
            SmtpClient(*j.addr(), timeout=1).close()
        except (ConnectionRefusedError, OSError):
            break
        time.sleep(0.05)
    else:
        pytest.fail("still accepting connections after SIGTERM")


def _uid_of(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("Uid:"):
                return int(line.split()[1])
    return None


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to drop root")
def test_run_as_drops_root_and_still_delivers(jaga_factory):
    import pwd
    nobody = pwd.getpwnam("nobody")
    j = jaga_factory(next_hop="maildir:Maildir", opts={"run_as": "nobody"})
    assert j.wait_log("running as nobody")
    assert _uid_of(j.proc.pid) == nobody.pw_uid
    t = try_transaction(*j.addr(), "alice@sender.test", ["bob@local.test"],
                        make_message("as nobody"))
    assert t.delivered, t
    files = _new_files(j)
    assert len(files) == 1
    st = os.stat(os.path.join(j.state_dir, "Maildir", "new", files[0]))
    assert st.st_uid == nobody.pw_uid


def test_run_as_unknown_user_is_a_clear_error(jaga_bin, tmp_path):
    import subprocess
    p = subprocess.run([jaga_bin, "serve", "-o", "state_dir=%s" % tmp_path,
                        "--listen", "inbound=127.0.0.1:0",
                        "-o", "run_as=no-such-user-jaga"],
                       capture_output=True, text=True, timeout=20)
    assert p.returncode != 0
    assert "-o: run_as: no such user on this system" in p.stderr, p.stderr
    c = subprocess.run([jaga_bin, "config", "check", "-o", "run_as=no-such-user-jaga"],
                       capture_output=True, text=True, timeout=20)
    assert c.returncode == 1
    assert "run_as: no such user on this system" in c.stderr, c.stderr


def test_no_core_file(jaga_factory):
    """AUTH passwords and upstream secrets pass through the daemon: it
    makes no core file (RLIMIT_CORE 0, soft and hard)."""
    j = jaga_factory()
    with open("/proc/%d/limits" % j.proc.pid) as f:
        line = [l for l in f if l.startswith("Max core file size")][0]
    assert line.split()[4:6] == ["0", "0"], line
