"""A small authoritative DNS server for the wire tests (issue 5 §1).

Serves a zone on 127.0.0.1 (UDP and TCP, one free port) with dnslib's
packet classes; jaga reaches it through `resolver = 127.0.0.1:PORT`
(or `--resolver`).  The zone is a dict in the openspf suite's zonedata
form, or a YAML/JSON file of one:

    {"example.com": [{"A": "192.0.2.1"}, {"MX": [10, "mx.example.com"]},
                     {"TXT": "v=spf1 -all"},          # one string
                     {"TXT": ["v=spf1 ", "-all"]},    # one record, 2 strings
                     {"TXT": "NONE"}],                # exists, no TXT
     "slow.example.com": ["TIMEOUT"],
     "broken.example.com": ["SERVFAIL"]}             # or "REFUSED"

Types: A, AAAA, MX [pref, host], PTR, CNAME, TXT, SPF.  Semantics as in
engine/dns_table.c: names are case-insensitive; a name with any entry
exists (NODATA for a type it lacks, else NXDOMAIN); a CNAME is followed
inside the zone; TIMEOUT means no reply at all to a query for a type the
name has no record of; SERVFAIL and REFUSED answer every query for the name
with that rcode.  The openspf driver rule "an SPF entry also stands
for a TXT" is the test's business, not the server's.  A UDP answer larger
than the client's EDNS size (512 without EDNS) is sent truncated (TC), so
the client retries over TCP, as RFC 7766 §5 wants.

Every query is recorded in .queries (name, type, "udp"/"tcp") before the
reply goes out.  The pytest fixture `dns_server` (conftest.py) yields a
started DNSServer; `dns_server.set_zone(...)`, `.add(...)`.
"""

import json
import signal
import socket
import socketserver
import struct
import sys
import threading

import dnslib

TYPES = ("A", "AAAA", "MX", "PTR", "CNAME", "TXT", "SPF")
CNAME_HOPS = 8


def _norm(name):
    return str(name).rstrip(".").lower()


def _txt_strings(value):
    """A TXT value (str or list of str) as <character-string>s of at most
    255 octets (a longer string is split, RFC 7208 §3.3).  Text is sent as
    Latin-1 when it fits (the suites write raw octets such as "\\x80" or a
    UTF-8 BOM that way), else as UTF-8; an empty list is one empty string,
    as the openspf suite's driver reads "SPF: []"."""
    parts = value if isinstance(value, list) else [value]
    out = []
    for p in parts or [""]:
        if isinstance(p, str):
            try:
                b = p.encode("latin-1")
            except UnicodeEncodeError:
                b = p.encode("utf-8")
        else:
            b = bytes(p)
        out.extend(b[i:i + 255] for i in range(0, len(b), 255) or [0])
    return out


def _rdata(rtype, value):
    if rtype == "A":
        return dnslib.A(value)
    if rtype == "AAAA":
        return dnslib.AAAA(value)
    if rtype == "MX":
        pref, host = (value if isinstance(value, list) else [0, value])
        return dnslib.MX(host, int(pref))
    if rtype == "PTR":
        return dnslib.PTR(value)
    if rtype == "CNAME":
        return dnslib.CNAME(value)
    return dnslib.TXT(_txt_strings(value))     # TXT and SPF (type 99)


class DNSServer:
    def __init__(self, zone=None, host="127.0.0.1", port=None, ttl=300):
        self.host = host
        self.port = port
        self.ttl = ttl
        self.queries = []
        self._lock = threading.Lock()
        self._zone = {}
        self._servers = []
        if zone is not None:
            self.set_zone(zone)

    @property
    def address(self):
        return "%s:%d" % (self.host, self.port)

    # ---- the zone ----
    def set_zone(self, zone, spf_as_txt=False):
        """Replace the zone with a dict, or the path of a YAML/JSON file.
        spf_as_txt: the openspf suite's driver rule, outside its "Selecting
        records" scenario: an SPF entry also stands for a TXT record with
        the same text, unless the name has a TXT entry of its own."""
        if isinstance(zone, str):
            with open(zone) as f:
                if zone.endswith(".json"):
                    zone = json.load(f)
                else:
                    import yaml
                    zone = yaml.safe_load(f)
        with self._lock:
            self._zone = {}
        for name, entries in (zone or {}).items():
            self.add_name(name)
            entries = list(entries or [])
            if spf_as_txt and not any(isinstance(e, dict) and "TXT" in e for e in entries):
                entries += [{"TXT": e["SPF"]} for e in entries
                            if isinstance(e, dict) and "SPF" in e]
            for e in entries:
                if e == "TIMEOUT":
                    self.timeout(name)
                    continue
                if e in ("SERVFAIL", "REFUSED"):
                    self.fail(name, e)
                    continue
                for rtype, value in e.items():
                    if value != "NONE":
                        self.add(name, rtype, value)

    def add_name(self, name):
        """name exists (NODATA for every type it has no record of)."""
        with self._lock:
            self._zone.setdefault(_norm(name), {"timeout": False, "rcode": None, "rr": []})

    def add(self, name, rtype, value):
        """One record: add("example.com", "MX", [10, "mx.example.com"])."""
        if rtype not in TYPES:
            raise ValueError("type %s" % rtype)
        rd = _rdata(rtype, value)
        self.add_name(name)
        with self._lock:
            self._zone[_norm(name)]["rr"].append((rtype, rd))

    def timeout(self, name):
        """Queries for name go unanswered (except for types it has)."""
        self.add_name(name)
        with self._lock:
            self._zone[_norm(name)]["timeout"] = True

    def fail(self, name, rcode="SERVFAIL"):
        """Every query for name is answered with rcode (SERVFAIL, REFUSED)."""
        self.add_name(name)
        with self._lock:
            self._zone[_norm(name)]["rcode"] = getattr(dnslib.RCODE, rcode)

    # ---- answering ----
    def _answer(self, q):
        """The reply to query q, or None for no reply (TIMEOUT)."""
        qname, qtype = _norm(q.q.qname), dnslib.QTYPE[q.q.qtype]
        reply = q.reply(aa=1, ra=1)
        name = qname
        with self._lock:
            for _ in range(CNAME_HOPS + 1):
                node = self._zone.get(name)
                if node is None:
                    reply.header.rcode = dnslib.RCODE.NXDOMAIN
                    break
                if node["rcode"] is not None:
                    reply.header.rcode = node["rcode"]
                    return reply
                rrs = [rd for t, rd in node["rr"] if t == qtype]
                if rrs:
                    for rd in rrs:
                        reply.add_answer(dnslib.RR(name, q.q.qtype, rdata=rd, ttl=self.ttl))
                    return reply
                if node["timeout"]:
                    return None
                cname = [rd for t, rd in node["rr"] if t == "CNAME"]
                if not cname:
                    break               # NODATA
                reply.add_answer(dnslib.RR(name, dnslib.QTYPE.CNAME, rdata=cname[0], ttl=self.ttl))
                name = _norm(cname[0].label)
            else:
                reply.header.rcode = dnslib.RCODE.SERVFAIL     # a loop
                return reply
        # RFC 2308 §3: an SOA in the authority section makes the negative
        # answer cacheable (for its minimum field)
        reply.add_auth(dnslib.RR(".", dnslib.QTYPE.SOA, ttl=self.ttl, rdata=dnslib.SOA(
            "ns.test", "hostmaster.test", (1, 3600, 600, 86400, self.ttl))))
        return reply

    def handle(self, data, proto):
        """Bytes of a query in, bytes of the reply out (None: no reply)."""
        try:
            q = dnslib.DNSRecord.parse(data)
        except Exception:
            return None
        with self._lock:
            self.queries.append((_norm(q.q.qname), dnslib.QTYPE[q.q.qtype], proto))
        reply = self._answer(q)
        if reply is None:
            return None
        wire = reply.pack()
        if proto == "udp":
            size = max([512] + [rr.rclass for rr in q.ar if rr.rtype == dnslib.QTYPE.OPT])
            if len(wire) > size:
                tc = q.reply(aa=1, ra=1)
                tc.header.tc = 1
                wire = tc.pack()
        return wire

    # ---- start and stop ----
    def start(self):
        srv = self

        class UDP(socketserver.BaseRequestHandler):
            def handle(self):
                data, sock = self.request
                out = srv.handle(data, "udp")
                if out is not None:
                    sock.sendto(out, self.client_address)

        class TCP(socketserver.BaseRequestHandler):
            def handle(self):
                f = self.request.makefile("rb")
                while True:
                    head = f.read(2)
                    if len(head) < 2:
                        return
                    data = f.read(struct.unpack("!H", head)[0])
                    out = srv.handle(data, "tcp")
                    if out is not None:
                        self.request.sendall(struct.pack("!H", len(out)) + out)

        last = None
        for _ in range(20):
            port = self.port or _free_port(self.host)
            try:
                u = socketserver.ThreadingUDPServer((self.host, port), UDP)
            except OSError as e:
                last = e
                continue
            try:
                socketserver.ThreadingTCPServer.allow_reuse_address = True
                t = socketserver.ThreadingTCPServer((self.host, port), TCP)
            except OSError as e:
                u.server_close()
                last = e
                continue
            self.port = port
            self._servers = [u, t]
            break
        else:
            raise last
        for s in self._servers:
            s.daemon_threads = True
            threading.Thread(target=s.serve_forever, daemon=True).start()
        return self

    def stop(self):
        for s in self._servers:
            s.shutdown()
            s.server_close()
        self._servers = []

    def asked(self, name, rtype=None):
        """How many queries for name (and rtype) arrived."""
        with self._lock:
            return sum(1 for n, t, _ in self.queries
                       if n == _norm(name) and (rtype is None or t == rtype))


def _free_port(host):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((host, 0))
    port = s.getsockname()[1]
    s.close()
    return port


def main(argv):
    """dnsserver.py ZONEFILE HOST:PORT - serve a zone until SIGTERM or
    SIGINT (the `make run` demo's resolver; scripts/demo.sh)."""
    if len(argv) != 3 or ":" not in argv[2]:
        sys.stderr.write("usage: dnsserver.py ZONEFILE HOST:PORT\n")
        return 2
    host, port = argv[2].rsplit(":", 1)
    srv = DNSServer(argv[1], host=host, port=int(port)).start()
    print("dnsserver: serving %s on %s" % (argv[1], srv.address), flush=True)
    done = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: done.set())
    done.wait()
    srv.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
