#!/bin/sh
# deps.sh build|run|test|bench - install the Debian packages jaga needs, only
# when some are missing (idempotent; apt-get update runs at most once).
set -eu

build="meson ninja-build pkg-config gcc libevent-dev libssl-dev libsodium-dev
       libsqlite3-dev libcrypt-dev libgmime-3.0-dev libhiredis-dev
       libcurl4-openssl-dev libunbound-dev libpsl-dev publicsuffix"
run="$build python3-dnslib"
test="$build postfix swaks python3-pytest python3-aiosmtpd python3-dnslib
      iproute2 util-linux openssl procps whois redis-server python3-pyflakes
      faketime sasl2-bin libsasl2-modules python3-dkim opendkim-tools opendkim
      clamav-daemon"
bench="$test hyperfine libopendkim-dev python3-spf"

case "${1:-build}" in
build) want=$build ;;
run) want=$run ;;
test) want=$test ;;
bench) want=$bench ;;
*) echo "usage: $0 build|run|test|bench" >&2; exit 2 ;;
esac

missing=""
for p in $want; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
	echo "deps.sh: missing packages:$missing (run as root, or install them)" >&2
	exit 1
fi
echo "deps.sh: installing$missing"
# Postfix is only a test peer: never let its package configure a system MTA.
echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends $missing >/dev/null
