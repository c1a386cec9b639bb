"""clamd's INSTREAM client (issue 6 §1, engine/clamd.c) against a real
clamd on a UNIX socket, with a one-signature database this test writes,
and against fake clamds that answer garbage, half a reply or nothing.
tests/unit/clamd_probe scans its standard input and prints the result."""

import base64
import os
import shutil
import socket
import struct
import subprocess
import threading
import time

import pytest

import wirelib

EICAR_MD5 = "44d88612fea8a8f36de82e1278abb02f"
BODY = b"EICAR-STANDARD-ANTIVIRUS-TEST-FILE"
CLEAN = b"From: a@example.test\r\nSubject: hello\r\n\r\nJust a message.\r\n"


def eicar():
    with open(os.path.join(wirelib.TESTDATA, "spam", "eicar", "eicar.com.b64"), "rb") as f:
        data = base64.b64decode(f.read())
    assert len(data) == 68
    return data


@pytest.fixture(scope="module")
def probe(jaga_bin):
    # JAGA_BIN is BUILD/src/cli/jaga; the probe is BUILD/tests/unit/clamd_probe
    return os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(jaga_bin))),
                        "tests", "unit", "clamd_probe")


def scan(probe, addr, data, connect_ms=2000, io_ms=5000, max_stream=0):
    p = subprocess.run([probe, addr, str(connect_ms), str(io_ms), str(max_stream)],
                       input=data, capture_output=True, timeout=60)
    assert p.returncode == 0, p.stderr
    line = p.stdout.decode().strip()
    fields = dict(kv.split("=", 1) for kv in line.split(" ", 2))
    return fields["status"], fields["name"], fields["why"]


@pytest.fixture(scope="module")
def clamd():
    """A real clamd, Foreground, on a UNIX socket, knowing one signature:
    the MD5 of the decoded EICAR file (.hdb: MD5:SIZE:NAME)."""
    binary = shutil.which("clamd") or "/usr/sbin/clamd"
    if not os.path.exists(binary):
        pytest.skip("clamd not installed (scripts/deps.sh test)")
    d = wirelib.make_tempdir("jaga-clamd-")
    os.mkdir(os.path.join(d, "db"))
    with open(os.path.join(d, "db", "jaga.hdb"), "w") as f:
        f.write("%s:68:Jaga.Test.Eicar\n" % EICAR_MD5)
    with open(os.path.join(d, "db", "jaga.ndb"), "w") as f:
        f.write("Jaga.Test.EicarBody:0:*:%s\n" % BODY.hex())
    sock = os.path.join(d, "clamd.sock")
    with open(os.path.join(d, "clamd.conf"), "w") as f:
        f.write("Foreground yes\nLocalSocket %s\nDatabaseDirectory %s\n"
                "LogFile %s\nStreamMaxLength 1M\nBytecode no\n"
                % (sock, os.path.join(d, "db"), os.path.join(d, "clamd.log")))
    proc = subprocess.Popen([binary, "--config-file=" + os.path.join(d, "clamd.conf")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    while not os.path.exists(sock) and time.time() < deadline and proc.poll() is None:
        time.sleep(0.2)
    if not os.path.exists(sock):
        proc.kill()
        with open(os.path.join(d, "clamd.log")) as f:
            log = f.read()
        pytest.fail("clamd did not start:\n" + log)
    yield sock
    proc.terminate()
    proc.wait(timeout=30)
    shutil.rmtree(d, ignore_errors=True)


def test_eicar_is_a_virus(probe, clamd):
    status, name, why = scan(probe, clamd, eicar())
    assert status == "virus", why
    assert name.startswith("Jaga.Test.Eicar")


def test_clean_message(probe, clamd):
    assert scan(probe, clamd, CLEAN)[0] == "clean"


def test_empty_stream_is_clean(probe, clamd):
    assert scan(probe, clamd, b"")[0] == "clean"


def test_eicar_across_chunks(probe, clamd):
    # the .ndb body signature matches anywhere: put it across the first
    # 64 kB chunk boundary, so clamd must join the chunks to see it
    status, name, why = scan(probe, clamd, b"x" * 65530 + eicar() + b"y" * 70000)
    assert (status, name) == ("virus", "Jaga.Test.EicarBody.UNOFFICIAL"), why
    assert scan(probe, clamd, b"x" * 65530 + eicar()[:40])[0] == "clean"


def test_clamds_own_size_limit(probe, clamd):
    # clamd's StreamMaxLength is 1M: it answers ERROR and closes mid-stream
    status, name, why = scan(probe, clamd, b"a" * (3 * 1024 * 1024))
    assert status == "error"
    assert "size limit" in why


def test_our_size_limit_sends_nothing(probe, clamd):
    status, _, why = scan(probe, clamd, eicar(), max_stream=67)
    assert (status, why) == ("error", "INSTREAM size limit exceeded")
    assert scan(probe, clamd, eicar(), max_stream=68)[0] == "virus"


def test_not_running_is_unavailable(probe, tmp_path):
    status, _, why = scan(probe, str(tmp_path / "none.sock"), CLEAN)
    assert status == "unavailable"
    assert "connect" in why
    port = wirelib.free_port()
    assert scan(probe, "127.0.0.1:%d" % port, CLEAN)[0] == "unavailable"


class FakeClamd:
    """A UNIX-socket clamd that records what it read (the command and
    the chunks up to the zero-length one), then does what it is told."""

    def __init__(self, path, answer):
        self.path, self.answer, self.got = path, answer, []
        self.srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.srv.bind(path)
        self.srv.listen(4)
        threading.Thread(target=self.run, daemon=True).start()

    def read_stream(self, c):
        f = c.makefile("rb")
        cmd = b""
        while not cmd.endswith(b"\0"):
            cmd += f.read(1)
        data = b""
        while True:
            n = struct.unpack(">I", f.read(4))[0]
            if n == 0:
                return cmd, data
            data += f.read(n)

    def run(self):
        while True:
            try:
                c, _ = self.srv.accept()
            except OSError:
                return
            self.got.append(self.read_stream(c))
            if self.answer is None:
                time.sleep(5)
            else:
                c.sendall(self.answer)
            c.close()


@pytest.mark.parametrize("answer,why", [
    (b"HELLO WORLD\0", "unexpected reply"),
    (b"stream: OK", "truncated reply (no NUL)"),
    (b"", "no reply"),
    (b"stream: " + b"A" * 2000 + b" FOUND\0", "reply too long"),
    (None, "timeout waiting for reply"),
])
def test_fake_clamd_never_clean(probe, tmp_path, answer, why):
    fake = FakeClamd(str(tmp_path / "fake.sock"), answer)
    status, _, got_why = scan(probe, fake.path, CLEAN, io_ms=500)
    assert (status, got_why) == ("error", why)
    assert fake.got == [(b"zINSTREAM\0", CLEAN)]


def test_fake_clamd_sees_the_framing(probe, tmp_path):
    fake = FakeClamd(str(tmp_path / "ok.sock"), b"stream: OK\0")
    data = os.urandom(150000)
    assert scan(probe, fake.path, data)[0] == "clean"
    assert fake.got == [(b"zINSTREAM\0", data)]
