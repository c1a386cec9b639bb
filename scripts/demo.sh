#!/bin/sh
# demo.sh JAGA RUNDIR - start the gateway on its embedded defaults (no
# configuration file) for a first look: everything on loopback, mail into a
# Maildir under RUNDIR, one demo AUTH user whose password is kept in a file.
set -eu
jaga=$1
run=$2
mkdir -p "$run"
chmod 700 "$run"
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
exec "$jaga" serve -o state_dir="$run" -o user_table="$run/users"
