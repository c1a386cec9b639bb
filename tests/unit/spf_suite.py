#!/usr/bin/python3
"""spf_suite.py - run an openspf-format YAML suite through test_spf_suite.

Python reads the YAML (Debian's python3-yaml) and writes it out as a flat
file of tab-separated lines, every string field in hex, that the C runner
reads without a YAML parser:
  S  description
  Z  name  TYPE  value...      (A, AAAA, MX pref host, PTR, CNAME, TXT, SPF,
                                TIMEOUT: types not listed time out,
                                NONE type: no record of that type)
  T  name  host  mailfrom  helo  result[,result]  explanation|-
Tests with pyspf's `strict` field are skipped: they exercise the obsolete
default= modifier, which RFC 7208 ignores as an unknown modifier.
Usage: spf_suite.py SUITE.yml RUNNER
"""
import os
import subprocess
import sys
import tempfile

import yaml


def hx(s):
    if isinstance(s, str):
        try:    # YAML "\x80" is one octet on the wire
            s = s.encode('latin-1')
        except UnicodeEncodeError:
            s = s.encode('utf-8', 'surrogateescape')
    return s.hex() or '-'


def txt(v):
    """A TXT/SPF value: a list of strings is one record, joined."""
    if isinstance(v, list):
        return ''.join(str(x) for x in v)
    return str(v)


def zone_lines(zone):
    for name, recs in (zone or {}).items():
        name = str(name)
        has_txt = any(isinstance(r, dict) and 'TXT' in r for r in recs)
        for r in recs:
            if r == 'TIMEOUT':
                yield ['Z', hx(name), 'TIMEOUT']
                continue
            (typ, val), = r.items()
            if val == 'NONE':
                yield ['Z', hx(name), 'NONE', typ]
            elif typ == 'MX':
                yield ['Z', hx(name), 'MX', str(val[0]), hx(str(val[1]))]
            elif typ in ('TXT', 'SPF'):
                yield ['Z', hx(name), typ, hx(txt(val))]
                # the suite's driver rule: SPF also stands for TXT unless
                # the name has its own TXT (the "Selecting records"
                # scenario expects it there too)
                if typ == 'SPF' and not has_txt:
                    yield ['Z', hx(name), 'TXT', hx(txt(val))]
            else:
                yield ['Z', hx(name), typ, hx(str(val))]


def lines(docs):
    for doc in docs:
        if not doc:
            continue
        desc = doc.get('description', '')
        yield ['S', hx(desc)]
        yield from zone_lines(doc.get('zonedata'))
        for name, t in doc['tests'].items():
            if 'strict' in t:
                continue    # pyspf's modes for the obsolete default=
            res = t['result']
            res = ','.join(res) if isinstance(res, list) else res
            exp = t.get('explanation')
            yield ['T', hx(name), str(t['host']), hx(t.get('mailfrom', '')),
                   hx(t.get('helo', '')), res,
                   hx(exp) if exp is not None else '-']


def testdata_file(path):
    """path as given, else under $JAGA_TESTDATA (tests/run_all.sh sets it),
    else under ../shared/testdata seen from the source root."""
    if os.path.exists(path):
        return path
    base = os.environ.get('JAGA_TESTDATA') or os.path.join(
        os.path.dirname(os.path.abspath(__file__)), '..', '..', '..', 'shared', 'testdata')
    return os.path.join(base, path)


def main():
    with open(testdata_file(sys.argv[1]), encoding='utf-8', errors='surrogateescape') as f:
        docs = list(yaml.safe_load_all(f))
    with tempfile.NamedTemporaryFile('w', suffix='.spf') as out:
        for ln in lines(docs):
            out.write('\t'.join(ln) + '\n')
        out.flush()
        return subprocess.call([sys.argv[2], out.name])


if __name__ == '__main__':
    sys.exit(main())
