#!/bin/sh
# demo.sh JAGA RUNDIR - start the gateway on its embedded defaults (no
# configuration file) for a first look: everything on loopback, mail into a
# Maildir under RUNDIR, one demo AUTH user whose password is kept in a file.
set -eu
jaga=$1
run=$2
here=$(cd "$(dirname "$0")/.." && pwd)
dns=127.0.0.1:10053	# the demo's own DNS server: nothing is asked outside
mkdir -p "$run"
chmod 700 "$run"
# A zone for the demo (tests/wire/dnsserver.py serves it on loopback):
# demo.jaga.test sends from loopback; example.org publishes SPF -all and
# DMARC p=reject for addresses that are not ours, so a forgery is refused.
cat >"$run/demo-zone.json" <<'ZONE'
{"demo.jaga.test": [{"MX": [10, "mx.demo.jaga.test"]},
                    {"TXT": "v=spf1 ip4:127.0.0.0/8 -all"}],
 "mx.demo.jaga.test": [{"A": "127.0.0.1"}],
 "_dmarc.demo.jaga.test": [{"TXT": "v=DMARC1; p=reject"}],
 "example.org": [{"TXT": "v=spf1 ip4:192.0.2.0/24 -all"}],
 "_dmarc.example.org": [{"TXT": "v=DMARC1; p=reject"}]}
ZONE
if [ ! -s "$run/users" ]; then
	umask 077
	head -c 15 /dev/urandom | base64 | tr -d '/+=' >"$run/demo-password"
	printf 'demo:%s\n' "$("$jaga" user hash <"$run/demo-password")" >"$run/users"
fi
cat <<MSG

jaga demo gateway: the embedded defaults ("$jaga config defaults" lists them)
  inbound     127.0.0.1:2525   accepts mail for demo.jaga.test, no AUTH
  submission  127.0.0.1:5870   STARTTLS, then AUTH as "demo" (password in
                               $run/demo-password)
  next hop    maildir:$run/Maildir
  TLS         a self-signed certificate made in $run/tls/

In another terminal, send a test message and look at what arrived:
  swaks --server 127.0.0.1:2525 --to you@demo.jaga.test
  ls $run/Maildir/new/
Through submission (swaks asks for the password):
  swaks --server 127.0.0.1:5870 -tls --auth-user demo --to anyone@example.org
Try an open-relay probe (refused with 550 5.7.1):
  swaks --server 127.0.0.1:2525 --to victim@example.org
Try a forgery: example.org publishes SPF -all and DMARC p=reject, and
127.0.0.1 is not its server (refused with 550 5.7.1; mail that passes gets
an Authentication-Results header):
  swaks --server 127.0.0.1:2525 --from ceo@example.org --to you@demo.jaga.test
  swaks --server 127.0.0.1:2525 --from news@demo.jaga.test --to you@demo.jaga.test
DNS: jaga asks only the demo's DNS server on $dns (zone in
$run/demo-zone.json); a real gateway sets resolver = its resolver.

Relaying through a smarthost (SES, Mailgun...) with its credential kept
encrypted in the vault, never in a config file (README "Relaying through a
smarthost"); with -c FILE holding the same lines instead of -o:
  $jaga vault init -o state_dir=$run -o vault_key=file:$run/key/vault.key
  $jaga vault set ses --user SMTP-USER -o state_dir=$run \\
      -o vault_key=file:$run/key/vault.key        # asks for the secret
  $jaga vault test ses -o state_dir=$run -o vault_key=file:$run/key/vault.key \\
      --next-hop smtp://email-smtp.us-east-1.amazonaws.com:587
and in jaga.conf (STARTTLS with certificate checks is then required):
  # next_hop = smtp://email-smtp.us-east-1.amazonaws.com:587
  # next_hop_auth = vault:ses
  # vault_key = file:/etc/jaga/vault.key
or for one listener only:
  # listen = submission=127.0.0.1:5871;next_hop=smtp://email-smtp.us-east-1.amazonaws.com:587;next_hop_auth=vault:ses

Ctrl-C stops the gateway.

MSG
/usr/bin/python3 "$here/tests/wire/dnsserver.py" "$run/demo-zone.json" "$dns" &
dnspid=$!
trap 'kill $dnspid 2>/dev/null' EXIT INT TERM
"$jaga" serve -o state_dir="$run" -o user_table="$run/users" \
    -o resolver="$dns"
