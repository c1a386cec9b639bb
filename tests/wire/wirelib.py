"""Helpers for jaga's wire-level tests: a jaga process, private Postfix
instances, a scriptable (misbehaving) fake next hop, and a raw SMTP client.

Everything binds to 127.0.0.0/8 only.  Nothing here uses the system
resolver: every address is a literal IP.
"""

import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import threading
import time

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
# Third-party suites and vectors (../shared/testdata, see its SOURCES.md):
# $JAGA_TESTDATA (tests/run_all.sh sets it), else beside the repository.
TESTDATA = os.environ.get("JAGA_TESTDATA") or os.path.join(REPO, "..", "shared", "testdata")
JAGA_BIN = os.environ.get("JAGA_BIN") or os.path.join(REPO, "build-wire", "src", "cli", "jaga")
LOCAL_DOMAIN = "local.test"

# Enhanced status code (RFC 3463) at the start of a reply text.
ENH_RE = re.compile(r"^([245])\.(\d{1,3})\.(\d{1,3})(?: |$)")


def free_port(host="127.0.0.1"):
    """A TCP port that was free a moment ago on host."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind((host, 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_port(host, port, timeout=20.0, proc=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError("process exited with %s before %s:%d listened"
                               % (proc.returncode, host, port))
        try:
            s = socket.create_connection((host, port), timeout=1)
            s.close()
            return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError("nothing listens on %s:%d" % (host, port))


def wait_until(pred, timeout=15.0, interval=0.05):
    """Poll pred() until it returns a true value (returned) or timeout (None)."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() >= deadline:
            return v
        time.sleep(interval)


def make_tempdir(prefix):
    """A world-traversable temp dir (Postfix daemons run as user postfix)."""
    d = tempfile.mkdtemp(prefix=prefix, dir="/tmp")
    os.chmod(d, 0o755)
    return d


# ---------------------------------------------------------------- replies

class Reply:
    """One SMTP reply: code, lines (text after 'ddd-'/'ddd '), enhanced code."""

    def __init__(self, code, lines, raw):
        self.code = code
        self.lines = lines
        self.raw = raw
        m = ENH_RE.match(lines[0]) if lines else None
        self.enh = "%s.%s.%s" % m.groups() if m else ""

    @property
    def text(self):
        return "\n".join(self.lines)

    @property
    def cls(self):
        return self.code // 100

    def __repr__(self):
        return "Reply(%r)" % self.raw.decode("utf-8", "replace")

    def __str__(self):
        return self.raw.decode("utf-8", "replace").strip()


class ConnectionClosed(Exception):
    pass


class SmtpClient:
    """A raw SMTP client: exact bytes out, exact replies in.

    src binds the client socket to a loopback address (a distinct client IP).
    """

    def __init__(self, host, port, src=None, timeout=15.0, tls=False):
        self.timeout = timeout
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if src:
            self.sock.bind((src, 0))
        self.sock.settimeout(timeout)
        self.sock.connect((host, port))
        self.local_port = self.sock.getsockname()[1]
        self.buf = b""
        self.transcript = []
        if tls:
            self._wrap_tls()

    # -- low level
    def _wrap_tls(self):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        self.sock = ctx.wrap_socket(self.sock)
        self.tls_version = self.sock.version()

    def send(self, data):
        if isinstance(data, str):
            data = data.encode("utf-8")
        self.transcript.append((">", data))
        self.sock.sendall(data)

    def _fill(self):
        try:
            chunk = self.sock.recv(65536)
        except (ConnectionResetError, BrokenPipeError, ssl.SSLError) as e:
            raise ConnectionClosed(str(e))
        if not chunk:
            raise ConnectionClosed("EOF")
        self.buf += chunk

    def readline(self):
        while b"\n" not in self.buf:
            self._fill()
        line, self.buf = self.buf.split(b"\n", 1)
        return line + b"\n"

    def reply(self):
        """Read one (possibly multi-line) reply."""
        raw = b""
        lines = []
        while True:
            line = self.readline()
            raw += line
            s = line.rstrip(b"\r\n").decode("utf-8", "replace")
            if len(s) < 3 or not s[:3].isdigit():
                raise AssertionError("not an SMTP reply line: %r" % line)
            lines.append(s[4:])
            if len(s) == 3 or s[3] == " ":
                r = Reply(int(s[:3]), lines, raw)
                self.transcript.append(("<", raw))
                return r
            if s[3] != "-":
                raise AssertionError("bad reply separator: %r" % line)

    def replies(self, n):
        return [self.reply() for _ in range(n)]

    def cmd(self, line):
        """Send one command line (CRLF added) and read its reply."""
        if isinstance(line, str):
            line = line.encode("utf-8")
        self.send(line + b"\r\n")
        return self.reply()

    def is_closed(self, timeout=5.0):
        """True when the server closed the connection (after any pending
        replies were read by the caller)."""
        self.sock.settimeout(timeout)
        try:
            if self.buf:
                return False
            chunk = self.sock.recv(65536)
            if chunk:
                self.buf += chunk
                return False
            return True
        except (ConnectionResetError, BrokenPipeError):
            return True
        except ssl.SSLError:
            return True
        except socket.timeout:
            return False
        finally:
            self.sock.settimeout(self.timeout)

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    # -- conveniences
    def greeting(self):
        return self.reply()

    def ehlo(self, name="client.test"):
        r = self.cmd("EHLO " + name)
        self.caps = {}
        for l in r.lines[1:]:
            parts = l.split(None, 1)
            if parts:
                self.caps[parts[0].upper()] = parts[1] if len(parts) > 1 else ""
        return r

    def starttls(self):
        r = self.cmd("STARTTLS")
        if r.code == 220:
            if self.buf:
                raise AssertionError("server sent bytes after 220 STARTTLS: %r" % self.buf)
            self._wrap_tls()
        return r

    def data(self, message):
        """DATA, the message (bytes, CRLF, dot-stuffed here), end.  Returns
        (reply to DATA, reply to end of data or None)."""
        r = self.cmd("DATA")
        if r.code != 354:
            return r, None
        self.send(dot_stuff(message) + b".\r\n")
        return r, self.reply()

    def quit(self):
        try:
            r = self.cmd("QUIT")
        except (ConnectionClosed, OSError):
            r = None
        self.close()
        return r

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()


def dot_stuff(message):
    if isinstance(message, str):
        message = message.encode("utf-8")
    if not message.endswith(b"\r\n"):
        message += b"\r\n"
    out = []
    for line in message.split(b"\r\n")[:-1]:
        if line.startswith(b"."):
            line = b"." + line
        out.append(line + b"\r\n")
    return b"".join(out)


def make_message(subject, frm="alice@sender.test", to="bob@local.test", body=None, extra=b""):
    """A complete RFC 5322 message with CRLF line ends and a unique Message-ID."""
    mid = "<%s.%d@sender.test>" % (re.sub(r"[^A-Za-z0-9]", "", subject)[:40], time.monotonic_ns())
    if body is None:
        body = "Hello.\r\n.leading dot line\r\nBye.\r\n"
    msg = ("From: <%s>\r\nTo: <%s>\r\nSubject: %s\r\nDate: Mon, 23 Nov 2026 10:00:00 +0000\r\n"
           "Message-ID: %s\r\n" % (frm, to, subject, mid)).encode()
    msg += extra
    msg += b"\r\n" + (body.encode() if isinstance(body, str) else body)
    return msg


def send_mail(host, port, frm, rcpts, message, src=None, ehlo="client.test"):
    """One complete transaction; asserts each step is positive.
    Returns the final reply."""
    with SmtpClient(host, port, src=src) as c:
        g = c.greeting()
        assert g.code == 220, g
        r = c.ehlo(ehlo)
        assert r.code == 250, r
        r = c.cmd("MAIL FROM:<%s>" % frm)
        assert r.code == 250, r
        for rc in rcpts:
            r = c.cmd("RCPT TO:<%s>" % rc)
            assert r.code == 250, (rc, r)
        r1, r2 = c.data(message)
        assert r1.code == 354, r1
        c.quit()
        return r2


# ---------------------------------------------------------------- jaga

class Jaga:
    """A `jaga serve` process with its stderr log collected.

    listeners: dict role -> (ip, port) or (ip, port, per-listener next_hop)
    """

    def __init__(self, listeners=None, next_hop=None, opts=None, local_domain=LOCAL_DOMAIN,
                 config_file=None, extra_args=(), state_dir=None):
        self.bin = JAGA_BIN
        self.state_dir = state_dir or make_tempdir("jaga-state-")
        self._own_state = state_dir is None
        if listeners is None:
            listeners = {"inbound": ("127.0.0.1", free_port())}
        self.listeners = listeners
        self.next_hop = next_hop
        self.opts = dict(opts or {})
        self.args = [self.bin, "serve", "-o", "state_dir=" + self.state_dir]
        for role, spec in listeners.items():
            v = "%s=%s:%d" % (role, spec[0], spec[1])
            if len(spec) > 2 and spec[2]:
                v += ";next_hop=" + spec[2]
            self.args += ["--listen", v]
        if local_domain:
            self.args += ["--local-domain", local_domain]
        if next_hop:
            self.args += ["--next-hop", next_hop]
        for k, v in self.opts.items():
            self.args += ["-o", "%s=%s" % (k, v)]
        if config_file:
            self.args += ["-c", config_file]
        self.args += list(extra_args)
        self.lines = []
        self._cv = threading.Condition()
        self.proc = None

    def addr(self, role="inbound"):
        spec = self.listeners[role]
        return spec[0], spec[1]

    def start(self, timeout=20.0):
        if not os.path.exists(self.bin):
            raise RuntimeError("JAGA_BIN %s does not exist; build jaga first" % self.bin)
        self.proc = subprocess.Popen(self.args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, start_new_session=True)
        self._threads = [threading.Thread(target=self._reader, args=(self.proc.stderr,), daemon=True),
                         threading.Thread(target=self._reader, args=(self.proc.stdout,), daemon=True)]
        for t in self._threads:
            t.start()
        if not self.wait_log(" - jaga ready", timeout=timeout):
            out = self.log_text()
            self.stop()
            raise RuntimeError("jaga did not become ready; args=%r\nlog:\n%s" % (self.args, out))
        return self

    def _reader(self, stream):
        for raw in iter(stream.readline, b""):
            line = raw.decode("utf-8", "replace").rstrip("\n")
            with self._cv:
                self.lines.append(line)
                self._cv.notify_all()

    def log_text(self):
        with self._cv:
            return "\n".join(self.lines)

    def log_bytes(self):
        return self.log_text().encode("utf-8", "replace")

    def wait_log(self, needle, timeout=10.0, start=0):
        """Wait for a log line containing needle (a str or compiled regex)
        among lines[start:]; returns the line or None."""
        deadline = time.monotonic() + timeout
        with self._cv:
            while True:
                for l in self.lines[start:]:
                    if (needle.search(l) if hasattr(needle, "search") else needle in l):
                        return l
                left = deadline - time.monotonic()
                if left <= 0 or (self.proc and self.proc.poll() is not None and not self._alive_readers()):
                    return None
                self._cv.wait(min(left, 0.2))

    def _alive_readers(self):
        return any(t.is_alive() for t in self._threads)

    def mark(self):
        """An index into the log for wait_log(start=...)."""
        with self._cv:
            return len(self.lines)

    def events(self, sessid=None, component=None, event=None):
        out = []
        for l in list(self.lines):
            p = parse_log_line(l)
            if not p:
                continue
            if sessid is not None and p["sessid"] != sessid:
                continue
            if component is not None and p["component"] != component:
                continue
            if event is not None and p["event"] != event:
                continue
            out.append(p)
        return out

    def session_id_for_port(self, port, timeout=10.0):
        """The session id of the connection from local port `port`."""
        line = self.wait_log(re.compile(r" smtp connect .*\bport=%d\b" % port), timeout=timeout)
        if not line:
            return None
        return parse_log_line(line)["sessid"]

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.proc.wait(timeout=5)
        for t in self._threads:
            t.join(timeout=2)
        if self._own_state:
            shutil.rmtree(self.state_dir, ignore_errors=True)


LOG_RE = re.compile(r"^(?P<ts>\S+) jaga\[(?P<pid>\d+)\]: (?P<sessid>[0-9A-Za-z]{12}|-) "
                    r"(?P<component>[a-z]+) (?P<event>[a-z_]+)(?P<rest>(?: .*)?)$")
KV_RE = re.compile(r' ([A-Za-z_][A-Za-z0-9_]*)=("(?:[^"\\\x00-\x1f]|\\["\\]|\\x[0-9A-Fa-f]{2})*"|[^ "=\\\x00-\x1f]*)')


def parse_kv(rest):
    """Parse ' k=v k="v v"' strictly; returns dict or None when malformed."""
    kv = {}
    pos = 0
    while pos < len(rest):
        m = KV_RE.match(rest, pos)
        if not m:
            return None
        v = m.group(2)
        if v.startswith('"'):
            v = re.sub(r'\\x([0-9A-Fa-f]{2})', lambda mm: chr(int(mm.group(1), 16)), v[1:-1])
            v = v.replace('\\"', '"').replace("\\\\", "\\")
        kv[m.group(1)] = v
        pos = m.end()
    return kv


def parse_log_line(line):
    m = LOG_RE.match(line)
    if not m:
        return None
    kv = parse_kv(m.group("rest"))
    if kv is None:
        return None
    d = m.groupdict()
    d["kv"] = kv
    d["line"] = line
    return d


# ---------------------------------------------------------------- Postfix

MASTER_CF = """\
{listen} inet n - n - - smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
virtual   unix  -       n       n       -       -       virtual
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
"""

SINK_USERS = ["alice", "bob", "carol", "dave", "user", "load", "golden", "smuggle", "relay"]


class Postfix:
    """A private Postfix instance (own config, queue and data directories).

    kind="sink": final destination for local.test and evil.test, virtual
    Maildir delivery to self.mail_dir/<domain>/<user>/ for SINK_USERS;
    unknown users are refused at RCPT time (550 5.1.1).
    kind="client": relays everything it receives to relayhost.
    smarthost={"cert": PEM, "key": PEM, "users": {name: password}}: an
    upstream like SES: STARTTLS required (that certificate), and only
    clients logged in with Cyrus SASL (a sasldb made by saslpasswd2, the
    password on its stdin) may send; AUTH PLAIN and LOGIN, only over TLS.
    """

    def __init__(self, kind="sink", addr="127.0.0.2", port=None, relayhost=None, extra=None,
                 hostname=None, smarthost=None):
        self.kind = kind
        self.addr = addr
        self.port = port or free_port(addr)
        self.base = make_tempdir("postfix-%s-" % kind)
        self.conf = os.path.join(self.base, "conf")
        self.queue = os.path.join(self.base, "queue")
        self.data = os.path.join(self.base, "data")
        self.mail_dir = os.path.join(self.base, "mail")
        self.maillog = os.path.join(self.base, "maillog")
        self.hostname = hostname or ("%s.postfix.test" % kind)
        for d in (self.conf, self.queue, self.data, self.mail_dir):
            os.makedirs(d)
        os.chmod(self.base, 0o755)
        pw = _getpw("postfix")
        self.uid, self.gid = pw
        os.chown(self.data, self.uid, self.gid)
        os.chown(self.mail_dir, self.uid, self.gid)
        main = {
            "compatibility_level": "3.6",
            "queue_directory": self.queue,
            "data_directory": self.data,
            "mail_owner": "postfix",
            "setgid_group": "postdrop",
            "myhostname": self.hostname,
            "mydomain": "postfix.test",
            "myorigin": "$myhostname",
            "mydestination": "",
            # Postfix wants an interface address here; the smtpd service in
            # master.cf names its own 127.x address explicitly.
            "inet_interfaces": "127.0.0.1",
            "inet_protocols": "ipv4",
            "mynetworks": "127.0.0.0/8",
            "smtp_dns_support_level": "disabled",
            "smtpd_peername_lookup": "no",
            "maillog_file": self.maillog,
            "maillog_file_prefixes": self.base,
            "alias_maps": "",
            "alias_database": "",
            "biff": "no",
            "append_dot_mydomain": "no",
            "local_header_rewrite_clients": "",
            "smtputf8_enable": "yes",
            "smtpd_banner": "$myhostname ESMTP",
            "smtpd_relay_restrictions": "permit_mynetworks, reject_unauth_destination",
            "smtpd_recipient_restrictions": "",
            "queue_run_delay": "1s",
            "minimal_backoff_time": "1s",
            "maximal_backoff_time": "2s",
            "shlib_directory": "/usr/lib/postfix",
            "daemon_directory": "/usr/lib/postfix/sbin",
            "meta_directory": "/etc/postfix",
            "message_size_limit": "20480000",
            "smtpd_tls_security_level": "none",
            "smtp_tls_security_level": "none",
            "delay_warning_time": "0",
            "default_process_limit": "100",
        }
        if kind == "sink":
            with open(os.path.join(self.conf, "vmailbox"), "w") as f:
                for dom in ("local.test", "evil.test"):
                    for u in SINK_USERS:
                        f.write("%s@%s %s/%s/\n" % (u, dom, dom, u))
            main.update({
                "virtual_mailbox_domains": "local.test, evil.test",
                "virtual_mailbox_base": self.mail_dir,
                "virtual_mailbox_maps": "texthash:" + os.path.join(self.conf, "vmailbox"),
                "virtual_uid_maps": "static:%d" % self.uid,
                "virtual_gid_maps": "static:%d" % self.gid,
                "virtual_minimum_uid": "1",
                "smtpd_reject_unlisted_recipient": "yes",
                "relay_domains": "",
            })
        else:
            main.update({
                "relayhost": relayhost,
                "relay_domains": "",
                "smtp_tls_security_level": "may",
                "smtp_helo_name": self.hostname,
            })
        if smarthost:
            main.update(self._smarthost(smarthost))
        main.update(extra or {})
        self.main = main
        with open(os.path.join(self.conf, "main.cf"), "w") as f:
            for k, v in main.items():
                f.write("%s = %s\n" % (k, v))
        with open(os.path.join(self.conf, "master.cf"), "w") as f:
            f.write(MASTER_CF.format(listen="%s:%d" % (addr, self.port)))
        self.started = False

    def _smarthost(self, sh):
        """Cyrus SASL config and sasldb in self.conf; the main.cf lines."""
        sasldb = os.path.join(self.conf, "sasldb2")
        for name, password in sh["users"].items():
            r = subprocess.run(["/usr/sbin/saslpasswd2", "-f", sasldb, "-c", "-p",
                                "-u", self.hostname, name],
                               input=password.encode(), stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, timeout=30)
            assert r.returncode == 0, r.stdout
        os.chown(sasldb, self.uid, self.gid)
        os.chmod(sasldb, 0o600)
        # Debian's Postfix reads $config_directory/sasl/smtpd.conf (it
        # does not follow cyrus_sasl_config_path)
        os.makedirs(os.path.join(self.conf, "sasl"))
        with open(os.path.join(self.conf, "sasl", "smtpd.conf"), "w") as f:
            f.write("pwcheck_method: auxprop\nauxprop_plugin: sasldb\n"
                    "sasldb_path: %s\nmech_list: %s\n"
                    % (sasldb, sh.get("mechs", "PLAIN LOGIN")))
        return {
            "smtpd_tls_security_level": "encrypt",
            "smtpd_tls_cert_file": sh["cert"],
            "smtpd_tls_key_file": sh["key"],
            "smtpd_tls_loglevel": "1",
            "smtpd_sasl_auth_enable": "yes",
            "smtpd_sasl_type": "cyrus",
            "smtpd_sasl_path": "smtpd",
            "smtpd_sasl_local_domain": self.hostname,
            "smtpd_sasl_security_options": "noanonymous",
            "smtpd_tls_auth_only": "yes",
            "smtpd_relay_restrictions": "permit_sasl_authenticated, reject",
            "mynetworks": "127.255.255.255/32",
        }

    def postfix(self, *args, check=True):
        r = subprocess.run(["/usr/sbin/postfix", "-c", self.conf] + list(args),
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
        if check and r.returncode != 0:
            # postfix(1) writes its fatal message to stderr only on a tty
            diag = subprocess.run(["script", "-qc", "/usr/sbin/postfix -c %s %s" % (self.conf, " ".join(args)),
                                   "/dev/null"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                  stdin=subprocess.DEVNULL, timeout=60)
            raise RuntimeError("postfix %s failed: %s %s\nmaillog:\n%s" % (
                " ".join(args), r.stdout.decode(errors="replace"),
                diag.stdout.decode(errors="replace"), self.log_text()))
        return r

    def start(self):
        self.postfix("start")
        self.started = True
        wait_port(self.addr, self.port, timeout=30)
        return self

    def stop(self):
        if self.started:
            self.postfix("stop", check=False)
            pidfile = os.path.join(self.queue, "pid", "master.pid")
            # make sure the master is gone even when 'stop' failed
            def gone():
                try:
                    pid = int(open(pidfile).read().split()[0])
                except (OSError, ValueError, IndexError):
                    return True
                try:
                    os.kill(pid, 0)
                except ProcessLookupError:
                    return True
                return False
            if not wait_until(gone, timeout=10):
                try:
                    pid = int(open(pidfile).read().split()[0])
                    os.kill(pid, signal.SIGKILL)
                except (OSError, ValueError, IndexError):
                    pass
            self.started = False
        shutil.rmtree(self.base, ignore_errors=True)

    def log_text(self):
        try:
            with open(self.maillog, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def wait_log(self, pattern, timeout=15.0):
        rx = re.compile(pattern) if isinstance(pattern, str) else pattern
        return wait_until(lambda: rx.search(self.log_text()), timeout=timeout)

    # -- mailboxes
    def maildir(self, user, domain="local.test"):
        return os.path.join(self.mail_dir, domain, user)

    def messages(self, user, domain="local.test"):
        """Raw bytes of every message delivered to user@domain (new/ and cur/)."""
        out = []
        md = self.maildir(user, domain)
        for sub in ("new", "cur"):
            d = os.path.join(md, sub)
            if os.path.isdir(d):
                for n in sorted(os.listdir(d)):
                    with open(os.path.join(d, n), "rb") as f:
                        out.append(f.read())
        return out

    def find(self, needle, user, domain="local.test"):
        if isinstance(needle, str):
            needle = needle.encode()
        return [m for m in self.messages(user, domain) if needle in m]

    def wait_message(self, needle, user, domain="local.test", count=1, timeout=20.0):
        """Wait until at least `count` messages containing needle arrived;
        returns them (list)."""
        wait_until(lambda: len(self.find(needle, user, domain)) >= count, timeout=timeout)
        return self.find(needle, user, domain)


def _getpw(name):
    import pwd
    p = pwd.getpwnam(name)
    return p.pw_uid, p.pw_gid


def strip_postfix_delivery_headers(msg):
    """Remove what Postfix's virtual(8) delivery and smtpd(8) added on top:
    Return-Path, X-Original-To, Delivered-To, and Postfix's own Received header (the first
    Received, 'by <sink hostname> (Postfix)').  Returns (removed, rest)."""
    lines = msg.split(b"\n")
    removed = []
    i = 0
    def take_header(i):
        j = i + 1
        while j < len(lines) and lines[j][:1] in (b" ", b"\t"):
            j += 1
        return b"\n".join(lines[i:j]) + b"\n", j
    for name in (b"Return-Path:", b"X-Original-To:", b"Delivered-To:"):
        if lines[i].startswith(name):
            h, i = take_header(i)
            removed.append(h)
    if lines[i].startswith(b"Received:"):
        h, j = take_header(i)
        if b"(Postfix)" in h:
            removed.append(h)
            i = j
    return removed, b"\n".join(lines[i:])


def split_first_header(msg, nl=b"\n"):
    """(first header field incl. continuation lines, rest)."""
    lines = msg.split(nl)
    j = 1
    while j < len(lines) and lines[j][:1] in (b" ", b"\t"):
        j += 1
    return nl.join(lines[:j]) + nl, nl.join(lines[j:])


# ---------------------------------------------------------------- fake next hop

class FakeNextHop:
    """A scriptable SMTP/LMTP server for faults real peers cannot be made to
    produce on demand.  Behaviour is set by attributes:

      greeting        reply line(s) sent on connect (None: send nothing, hang)
      ehlo_caps       EHLO/LHLO keywords
      mail_reply      reply to MAIL
      rcpt_reply      function(rcpt) -> reply line
      data_reply      reply to DATA
      end_reply       reply to the final dot (SMTP), or function(txn)
      lmtp            LMTP: one reply per accepted recipient after the dot;
                      lmtp_rcpt_end(rcpt) -> reply line
      hang_after_dot  read the message, never answer
      drop_after_bytes  close the connection after this many bytes of DATA
      drop_at_mail    close the connection instead of answering this many
                      MAIL commands (a kept connection that died)

    Every transaction that reached the final dot is recorded in
    self.transactions (dicts with mail, rcpts, data(bytes, dot-unstuffed),
    accepted(list of rcpts the hop accepted at the end)).
    """

    def __init__(self, host="127.0.0.1", lmtp=False, unix_path=None):
        self.host = host
        self.lmtp = lmtp
        self.unix_path = unix_path
        self.greeting = "220 fake.nexthop.test ESMTP"
        self.ehlo_caps = ["PIPELINING", "8BITMIME", "SIZE 100000000", "ENHANCEDSTATUSCODES", "SMTPUTF8"]
        self.mail_reply = "250 2.1.0 Ok"
        self.rcpt_reply = lambda rcpt: "250 2.1.5 Ok"
        self.data_reply = "354 End data with <CR><LF>.<CR><LF>"
        self.end_reply = "250 2.0.0 Ok: queued as FAKE"
        self.lmtp_rcpt_end = lambda rcpt: "250 2.0.0 <%s> delivered" % rcpt
        self.hang_after_dot = False
        self.drop_after_bytes = None
        self.drop_at_mail = 0
        self.transactions = []
        self.commands = []
        self.connections = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._socks = []
        if unix_path:
            self.lsock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.lsock.bind(unix_path)
            self.port = None
        else:
            self.lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            self.lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self.lsock.bind((host, 0))
            self.port = self.lsock.getsockname()[1]
        self.lsock.listen(64)
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    @property
    def url(self):
        if self.unix_path:
            return "%s:unix:%s" % ("lmtp" if self.lmtp else "smtp", self.unix_path)
        return "%s://%s:%d" % ("lmtp" if self.lmtp else "smtp", self.host, self.port)

    def _accept(self):
        self.lsock.settimeout(0.2)
        while not self._stop.is_set():
            try:
                s, _ = self.lsock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            with self._lock:
                self.connections += 1
                self._socks.append(s)
            threading.Thread(target=self._serve, args=(s,), daemon=True).start()

    def _serve(self, s):
        f = s.makefile("rb")
        def out(line):
            s.sendall(line.encode() + b"\r\n")
        try:
            if self.greeting is None:
                self._stop.wait(120)
                return
            out(self.greeting)
            mail, rcpts = None, []
            while not self._stop.is_set():
                line = f.readline()
                if not line:
                    return
                cmdline = line.rstrip(b"\r\n").decode("utf-8", "replace")
                with self._lock:
                    self.commands.append(cmdline)
                verb = cmdline.split(" ", 1)[0].upper()
                if verb in ("EHLO", "LHLO", "HELO"):
                    caps = ["fake.nexthop.test"] + (self.ehlo_caps if verb != "HELO" else [])
                    for i, c in enumerate(caps):
                        out("250%s%s" % ("-" if i < len(caps) - 1 else " ", c))
                elif verb == "MAIL" and self.drop_at_mail > 0:
                    self.drop_at_mail -= 1
                    s.close()
                    return
                elif verb == "MAIL":
                    mail, rcpts = cmdline[10:].strip(), []
                    out(self.mail_reply)
                    if not self.mail_reply.startswith("2"):
                        mail = None
                elif verb == "RCPT":
                    r = cmdline[8:].strip()
                    rep = self.rcpt_reply(r)
                    if rep.startswith("2"):
                        rcpts.append(r)
                    out(rep)
                elif verb == "DATA":
                    if mail is None or not rcpts:
                        out("554 5.5.1 Error: no valid recipients")
                        continue
                    out(self.data_reply)
                    if not self.data_reply.startswith("3"):
                        continue
                    data = self._read_data(f, s)
                    if data is None:
                        return
                    txn = {"mail": mail, "rcpts": list(rcpts), "data": data, "accepted": []}
                    if self.hang_after_dot:
                        with self._lock:
                            txn["hung"] = True
                            self.transactions.append(txn)
                        self._stop.wait(120)
                        return
                    # record before answering: the answer reaches the test
                    # through jaga, and the test may look at once
                    if self.lmtp:
                        reps = [self.lmtp_rcpt_end(r) for r in rcpts]
                        txn["accepted"] = [r for r, rep in zip(rcpts, reps) if rep.startswith("2")]
                    else:
                        rep = self.end_reply(txn) if callable(self.end_reply) else self.end_reply
                        reps = [rep]
                        if rep.startswith("2"):
                            txn["accepted"] = list(rcpts)
                    with self._lock:
                        self.transactions.append(txn)
                    for rep in reps:
                        out(rep)
                    mail, rcpts = None, []
                elif verb == "RSET":
                    mail, rcpts = None, []
                    out("250 2.0.0 Ok")
                elif verb == "NOOP":
                    out("250 2.0.0 Ok")
                elif verb == "QUIT":
                    out("221 2.0.0 Bye")
                    return
                else:
                    out("502 5.5.2 Error: command not recognized")
        except OSError:
            return
        finally:
            try:
                s.close()
            except OSError:
                pass

    def _read_data(self, f, s):
        """Read up to CRLF.CRLF; returns unstuffed bytes or None on drop."""
        buf = b""
        while True:
            line = f.readline()
            if not line:
                return None
            if self.drop_after_bytes is not None and len(buf) + len(line) >= self.drop_after_bytes:
                with self._lock:
                    self.dropped = True
                s.shutdown(socket.SHUT_RDWR)
                return None
            if line == b".\r\n":
                return buf
            if line.startswith(b"."):
                line = line[1:]
            buf += line

    def accepted(self):
        with self._lock:
            return [t for t in self.transactions if t["accepted"]]

    def drop_connections(self):
        """Close every connection from the server side, as a next hop does
        with connections that stayed idle too long."""
        with self._lock:
            socks, self._socks = self._socks, []
        for s in socks:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def close(self):
        self._stop.set()
        try:
            self.lsock.close()
        except OSError:
            pass
        if self.unix_path:
            try:
                os.unlink(self.unix_path)
            except OSError:
                pass
        with self._lock:
            for s in self._socks:
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                try:
                    s.close()
                except OSError:
                    pass


def message_id(msg):
    m = re.search(rb"^Message-ID: (<[^>]+>)", msg, re.M | re.I)
    return m.group(1).decode()


def crlf_to_lf(b):
    return b.replace(b"\r\n", b"\n")


class Txn:
    """Outcome of try_transaction: replies by step, and the final one."""

    def __init__(self):
        self.steps = []
        self.closed = False

    def add(self, step, r):
        self.steps.append((step, r))

    @property
    def final(self):
        """The last reply received (None when none)."""
        return self.steps[-1][1] if self.steps else None

    def reply(self, step):
        for s, r in self.steps:
            if s == step:
                return r
        return None

    @property
    def delivered(self):
        """Did the client hear 250 at the end of DATA?"""
        r = self.reply("end")
        return r is not None and r.code == 250

    def __repr__(self):
        return "Txn(%s%s)" % (", ".join("%s=%s" % (s, r) for s, r in self.steps),
                              ", closed" if self.closed else "")


def try_transaction(host, port, frm, rcpts, message, src=None, ehlo="client.test", timeout=60.0,
                    tls=False):
    """Run one transaction without asserting; stop at the first refusal that
    ends it.  Returns a Txn."""
    t = Txn()
    try:
        with SmtpClient(host, port, src=src, timeout=timeout, tls=tls) as c:
            t.add("greeting", c.greeting())
            if t.final.code != 220:
                return t
            t.add("ehlo", c.ehlo(ehlo))
            t.add("mail", c.cmd("MAIL FROM:<%s>" % frm))
            if t.final.code != 250:
                return t
            ok = 0
            for rc in rcpts:
                r = c.cmd("RCPT TO:<%s>" % rc)
                t.add("rcpt", r)
                ok += r.code in (250, 251)
            if not ok:
                return t
            t.add("data", c.cmd("DATA"))
            if t.final.code != 354:
                return t
            c.send(dot_stuff(message) + b".\r\n")
            t.add("end", c.reply())
            try:
                t.add("quit", c.cmd("QUIT"))
            except (ConnectionClosed, OSError):
                t.closed = True
    except ConnectionClosed:
        t.closed = True
    return t


def check_serves(j, sink, src=None, user="bob"):
    """Assert that jaga still relays a normal message to the Postfix sink."""
    assert j.alive(), "jaga exited:\n" + "\n".join(j.lines[-30:])
    msg = make_message("still serving", to="%s@local.test" % user)
    t = try_transaction(*j.addr(), "alice@sender.test", ["%s@local.test" % user], msg, src=src)
    assert t.delivered, "jaga no longer relays after the previous test step: %r" % t
    got = sink.wait_message(message_id(msg), user)
    assert len(got) == 1
