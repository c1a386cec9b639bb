"""Fixtures for jaga's wire-level tests (reusable by later suites).

  sink            session-scoped private Postfix on 127.0.0.2: final
                  destination for local.test and evil.test (virtual Maildir)
  jaga_factory    start(**kw) -> a running Jaga (wirelib.Jaga); stopped at teardown
  jaga            a default jaga: inbound, submission and submissions listeners
                  on 127.0.0.1, next hop = sink, trusted_networks=127.0.0.9/32,
                  user_table with USER/PASSWORD
  fake_hop        factory: fake_hop(lmtp=False) -> FakeNextHop on 127.0.0.4
  postfix_factory factory for more private Postfix instances
  user_table      path of a user table holding USER:hash(PASSWORD)

Addresses: jaga 127.0.0.1, sink 127.0.0.2, client Postfix 127.0.0.3,
fakes 127.0.0.4, test clients 127.0.0.1 or 127.0.0.5..8, trusted 127.0.0.9.
"""

import os
import shutil
import subprocess

import pytest

import wirelib
from wirelib import FakeNextHop, Jaga, Postfix, free_port, make_tempdir

USER = "app1"
PASSWORD = "Wire-S3cret-pw!x9"
TRUSTED_IP = "127.0.0.9"
UNTRUSTED_IP = "127.0.0.5"


def pytest_configure(config):
    if os.geteuid() != 0:
        raise pytest.UsageError("the wire tests start private Postfix instances and must run as root")


@pytest.fixture(scope="session")
def jaga_bin():
    if not os.path.exists(wirelib.JAGA_BIN):
        pytest.fail("JAGA_BIN=%s does not exist: build jaga first" % wirelib.JAGA_BIN)
    return wirelib.JAGA_BIN


@pytest.fixture(scope="session")
def sink():
    pf = Postfix("sink", "127.0.0.2")
    try:
        pf.start()
        yield pf
    finally:
        pf.stop()


@pytest.fixture
def postfix_factory():
    made = []

    def make(*a, **kw):
        pf = Postfix(*a, **kw)
        made.append(pf)
        return pf.start()
    yield make
    for pf in made:
        pf.stop()


@pytest.fixture(scope="session")
def password_hash(jaga_bin):
    r = subprocess.run([jaga_bin, "user", "hash"], input=PASSWORD.encode(),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    if r.returncode != 0 or not r.stdout.strip():
        pytest.fail("`jaga user hash` failed (rc=%d): %s" % (r.returncode, r.stderr.decode(errors="replace")))
    h = r.stdout.decode().strip()
    assert PASSWORD not in h
    return h


@pytest.fixture(scope="session")
def user_table(password_hash):
    d = make_tempdir("jaga-users-")
    path = os.path.join(d, "users")
    with open(path, "w") as f:
        f.write("%s:%s\n" % (USER, password_hash))
    yield path
    os.unlink(path)
    os.rmdir(d)


@pytest.fixture
def jaga_factory(request, jaga_bin, sink):
    started = []

    def start(next_hop=None, opts=None, listeners=None, roles=("inbound",), **kw):
        if listeners is None:
            listeners = {r: ("127.0.0.1", free_port()) for r in roles}
        if next_hop is None:
            next_hop = "smtp://%s:%d" % (sink.addr, sink.port)
        # inbound_auth (issue 5 §5) puts an Authentication-Results header
        # on top of inbound mail; the suites that pin messages and logs
        # byte for byte run without it, test_inbound_auth.py with it
        o = {"trusted_networks": TRUSTED_IP + "/32", "inbound_auth": "no"}
        o.update(opts or {})
        j = Jaga(listeners=listeners, next_hop=next_hop, opts=o, **kw)
        started.append(j)
        return j.start()
    yield start
    for j in started:
        j.stop()
    dump_logs_on_failure(request, started)


@pytest.fixture
def jaga(jaga_factory, user_table):
    return jaga_factory(roles=("inbound", "submission", "submissions"),
                        opts={"user_table": user_table})


@pytest.fixture
def fake_hop():
    made = []

    def make(lmtp=False):
        f = FakeNextHop("127.0.0.4", lmtp=lmtp)
        made.append(f)
        return f
    yield make
    for f in made:
        f.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, "rep_" + rep.when, rep)


def dump_logs_on_failure(request, jagas):
    rep = getattr(request.node, "rep_call", None)
    if rep is not None and rep.failed:
        for j in jagas:
            print("---- jaga log (%s) ----" % " ".join(j.args[1:]))
            print("\n".join(j.lines[-80:]))


@pytest.fixture
def state_dir():
    """A fresh state_dir for `jaga serve` and the `jaga` subcommands."""
    d = make_tempdir("jaga-state-")
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def dns_server():
    """A started authoritative DNS server on 127.0.0.1 (tests/wire/dnsserver.py),
    empty zone: set_zone(dict or file), add(name, type, value), timeout(name);
    jaga reaches it with resolver=dns_server.address."""
    from dnsserver import DNSServer
    srv = DNSServer().start()
    try:
        yield srv
    finally:
        srv.stop()
