/* params.c - jaga's parameter table and the typed view of it.
 *
 * jaga_params[] is the one place where a parameter exists: name, type,
 * default, bounds, help.  The checks on single values run when a file or
 * -o sets them (so errors name the line); settings_load runs the same
 * parsers again on whatever the values are, defaults included, and adds
 * the checks that involve several parameters.
 */
#include "gateway/params.h"

#include "engine/burst.h"
#include "engine/dns.h"
#include "engine/limits.h"
#include "engine/redisdb.h"
#include "engine/vault.h"
#include "gateway/alerting.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define SEC		1000LL		/* P_TIME values are milliseconds */
#define MIN		(60 * SEC)
#define HOUR		(60 * MIN)
#define KIB		1024LL
#define GIB		(1024LL * 1024 * 1024)
#define PARAMS_WORD_MAX	1024		/* one entry of a list value */
#define PARAMS_MSG_MAX	768
#define PARAMS_DNS_MAX	253		/* RFC 1035 §2.3.4, as text */
#define PARAMS_LABEL_MAX 63

static const char *params_check_hostname(const char *v);
static const char *params_check_listen(const char *v);
static const char *params_check_domains(const char *v);
static const char *params_check_networks(const char *v);
static const char *params_check_next_hop(const char *v);
static const char *params_check_next_hop_auth(const char *v);
static const char *params_check_limits(const char *v);
static const char *params_check_store(const char *v);
static const char *params_check_key_limits(const char *v);

#define NH_TIME(name, def, help) \
	{ name, P_TIME, def, 100, HOUR, NULL, help, NULL }

/* run_as must name a user of this system (checked when it is set). */
static const char *
params_check_user(const char *v)
{
	if (v[0] == '\0' || getpwnam(v) != NULL)
		return NULL;
	return "no such user on this system";
}

const struct param_def jaga_params[] = {
	{ "myhostname", P_STR, "", 0, 0, NULL,
	  "Our name in the greeting, in EHLO to next hops and in Received: "
	  "(RFC 5321 §4.1.1.1); empty = the system host name",
	  params_check_hostname },
	{ "listen", P_LIST, "inbound=127.0.0.1:2525, submission=127.0.0.1:5870",
	  0, 0, NULL,
	  "Listeners ROLE=ADDR:PORT[;next_hop=URL][;next_hop_auth=vault:NAME]"
	  "; ROLE is inbound (RFC 5321),"
	  " submission (RFC 6409) or submissions (implicit TLS, RFC 8314)",
	  params_check_listen },
	{ "local_domains", P_LIST, "demo.jaga.test", 0, 0, NULL,
	  "Domains (or [address literals]) that anyone may send mail to; other "
	  "recipients need AUTH or a trusted network", params_check_domains },
	{ "trusted_networks", P_LIST, "", 0, 0, NULL,
	  "Client networks (CIDR) that may relay without AUTH; empty = none",
	  params_check_networks },
	{ "next_hop", P_STR, "maildir:Maildir", 0, 0, NULL,
	  "Where accepted mail goes: smtp://HOST[:PORT], lmtp://HOST[:PORT], "
	  "lmtp:unix:/PATH or maildir:PATH (relative to state_dir)",
	  params_check_next_hop },
	{ "state_dir", P_STR, "/var/lib/jaga", 0, 0, NULL,
	  "Directory for jaga's state (self-signed certificate, maildir)", NULL },
	{ "store", P_STR, "sqlite", 0, 0, NULL,
	  "Where counters, suspensions and AUTH lockouts live: sqlite (under "
	  "state_dir) or redis://HOST[:PORT][/DB], shared by every gateway on "
	  "that Redis (identities stay in state_dir)", params_check_store },
	{ "tls_cert_file", P_STR, "", 0, 0, NULL,
	  "PEM certificate chain for STARTTLS (RFC 3207) and implicit TLS "
	  "(RFC 8314); empty = a self-signed one made in state_dir", NULL },
	{ "tls_key_file", P_STR, "", 0, 0, NULL,
	  "PEM private key of tls_cert_file; empty = made with the self-signed "
	  "certificate", NULL },
	{ "user_table", P_STR, "", 0, 0, NULL,
	  "File of AUTH users (RFC 4954), managed with jaga user; empty = no "
	  "AUTH", NULL },
	{ "dkim_key_table", P_STR, "", 0, 0, NULL,
	  "DKIM-sign authenticated submissions (RFC 6376, RFC 8463): a file of "
	  "lines DOMAIN SELECTOR KEYFILE (an RSA and an Ed25519 line per "
	  "domain signs with both; key files mode 600); the header From: "
	  "domain picks the keys; empty = sign nothing", NULL },
	{ "message_size_limit", P_SIZE, "10m", KIB, 2 * GIB, NULL,
	  "Largest message accepted, announced with SIZE (RFC 1870)", NULL },
	{ "max_recipients", P_INT, "1000", 100, 100000, NULL,
	  "Recipients in one transaction; at least 100 (RFC 5321 §4.5.3.1.8)",
	  NULL },
	{ "max_sessions", P_INT, "10000", 1, 1000000, NULL,
	  "Client sessions at the same time", NULL },
	{ "max_sessions_per_ip", P_INT, "50", 1, 1000000, NULL,
	  "Client sessions at the same time from one address", NULL },
	{ "max_errors", P_INT, "10", 1, 1000, NULL,
	  "Protocol errors in a session before jaga answers 421 and "
	  "disconnects", NULL },
	{ "workers", P_INT, "0", 0, 256, NULL,
	  "Worker threads; 0 = one per CPU core", NULL },
	{ "shutdown_timeout", P_TIME, "30s", 0, 3600 * SEC, NULL,
	  "On SIGTERM: how long transactions in flight may take to finish "
	  "(idle sessions get 421 4.3.2 at once)", NULL },
	{ "run_as", P_STR, "", 0, 0, NULL,
	  "Started as root: the user to become once the listeners are bound "
	  "and the keys read (e.g. jaga); empty = stay as started",
	  params_check_user },
	{ "bare_newline", P_ENUM, "reject", 0, 0, "reject|normalize",
	  "A bare LF or CR in message data (RFC 5321 §2.3.8, SMTP smuggling): "
	  "reject the message or normalize it to CRLF", NULL },
	{ "smtputf8", P_BOOL, "yes", 0, 0, NULL,
	  "Offer SMTPUTF8 (RFC 6531)", NULL },
	{ "greet_pause", P_TIME, "0", 0, 60 * SEC, NULL,
	  "Wait before the 220 greeting and reject clients that talk first "
	  "(RFC 5321 §3.1: the client waits for the greeting)", NULL },
	{ "command_timeout", P_TIME, "300s", 100, HOUR, NULL,
	  "Wait for the next client command (RFC 5321 §4.5.3.2.7: 5 minutes)",
	  NULL },
	{ "data_timeout", P_TIME, "180s", 100, HOUR, NULL,
	  "Wait for each block of message data from the client (RFC 5321 "
	  "§4.5.3.2.5: 3 minutes)", NULL },
	NH_TIME("next_hop_connect_timeout", "30s",
	    "Connecting to the next hop"),
	NH_TIME("next_hop_greeting_timeout", "300s",
	    "Wait for the next hop's 220 greeting (RFC 5321 §4.5.3.2.1)"),
	NH_TIME("next_hop_command_timeout", "300s",
	    "Wait for the next hop's reply to EHLO, MAIL, RCPT, RSET "
	    "(RFC 5321 §4.5.3.2.2-3)"),
	NH_TIME("next_hop_data_init_timeout", "120s",
	    "Wait for the 354 reply to DATA (RFC 5321 §4.5.3.2.4)"),
	NH_TIME("next_hop_data_block_timeout", "180s",
	    "Each write of message data to the next hop (RFC 5321 §4.5.3.2.5)"),
	NH_TIME("next_hop_data_done_timeout", "600s",
	    "Wait for the reply to the final dot (RFC 5321 §4.5.3.2.6)"),
	{ "next_hop_cache", P_INT, "16", 0, 10000, NULL,
	  "Idle next-hop connections each worker keeps for the next client "
	  "session (saves a connect, EHLO and QUIT per message); 0 = none",
	  NULL },
	{ "next_hop_pipelining", P_BOOL, "yes", 0, 0, NULL,
	  "Answer MAIL once the local checks pass and send it to a next hop "
	  "that offers PIPELINING together with the first RCPT (RFC 2920): "
	  "one round trip less per message; a sender the next hop refuses is "
	  "refused at RCPT, as Postfix's smtpd_delay_reject does", NULL },
	{ "next_hop_cache_time", P_TIME, "5s", 100, 3600 * SEC, NULL,
	  "How long an idle next-hop connection is kept", NULL },
	{ "next_hop_tls", P_ENUM, "may", 0, 0, "none|may|encrypt|verify",
	  "STARTTLS to the next hop (RFC 3207): none, may (when offered, "
	  "unverified), encrypt (required, unverified), verify (required, "
	  "certificate and name checked)", NULL },
	{ "next_hop_tls_ca_file", P_STR, "", 0, 0, NULL,
	  "PEM CA certificates for next_hop_tls = verify; empty = the system's",
	  NULL },
	{ "next_hop_auth", P_STR, "", 0, 0, NULL,
	  "Log in to the next hop (RFC 4954, e.g. a smarthost like SES) with "
	  "a vault entry: vault:NAME; STARTTLS with certificate and name "
	  "verification is then required; empty = no AUTH",
	  params_check_next_hop_auth },
	{ "auth_ip_failures", P_INT, "5", 1, 1000, NULL,
	  "AUTH failures from one client IP within auth_window that lock the "
	  "IP out (454 4.7.0 before any password is checked)", NULL },
	{ "auth_window", P_TIME, "10m", 100, 24 * HOUR, NULL,
	  "The window in which AUTH failures are counted, from the first one",
	  NULL },
	{ "auth_ip_lockout", P_TIME, "1m", 100, 24 * HOUR, NULL,
	  "The first lockout of a client IP; each further one lasts twice as "
	  "long, up to auth_ip_lockout_max", NULL },
	{ "auth_ip_lockout_max", P_TIME, "1h", 100, 24 * HOUR, NULL,
	  "The longest IP lockout; after this long without a lockout the "
	  "back-off starts again at auth_ip_lockout", NULL },
	{ "auth_spray_accounts", P_INT, "5", 1, 1000, NULL,
	  "Distinct account names one client IP may fail with within "
	  "auth_window before it is locked out (password spraying)", NULL },
	{ "auth_account_ips", P_INT, "10", 1, 1000, NULL,
	  "Distinct client IPs failing for one account within auth_window "
	  "that lock the account (distributed guessing)", NULL },
	{ "auth_account_failures", P_INT, "20", 1, 100000, NULL,
	  "AUTH failures for one account within auth_window, from any IPs, "
	  "that lock the account", NULL },
	{ "auth_account_lockout", P_TIME, "30m", 100, 7 * 24 * HOUR, NULL,
	  "How long a locked account refuses every AUTH, even with the right "
	  "password (535 5.7.8)", NULL },
	{ "auth_fail_delay", P_TIME, "1s", 0, 60 * SEC, NULL,
	  "Every failed AUTH is answered after this delay", NULL },
	{ "auth_lockout_entries", P_INT, "100000", 2, 10000000, NULL,
	  "Client IPs and account names tracked for AUTH lockout; when all "
	  "are in use, new ones share one entry and are locked together", NULL },
	{ "limits_default", P_STR, "messages=30/1m,300/1h,2000/1d "
	  "action=suspend; rcpts=500/1h,3000/1d action=suspend; "
	  "domains=50/1h action=suspend", 0, 0, NULL,
	  "Outbound limits of an authenticated identity without its own "
	  "(jaga user add --limit); counted per identity at the end of DATA, "
	  "see engine/limits.h for the form; empty = no limits",
	  params_check_limits },
	/* limits beyond the identity and burst detection (issue 3 §3, §4) */
	{ "limits_sender", P_STR, "", 0, 0, NULL,
	  "Limits per envelope sender (key snd:ADDR) on every message, "
	  "authenticated or not; defer or reject only; empty = off",
	  params_check_key_limits },
	{ "limits_sender_domain", P_STR, "", 0, 0, NULL,
	  "Limits per envelope sender domain (key sdom:DOMAIN); defer or "
	  "reject only; empty = off", params_check_key_limits },
	{ "limits_ip", P_STR, "", 0, 0, NULL,
	  "Limits per client IP (key ip:ADDR); defer or reject only; "
	  "empty = off", params_check_key_limits },
	{ "limits_net", P_STR, "", 0, 0, NULL,
	  "Limits per client network (key net:PREFIX/LEN, see "
	  "limits_net_prefix4 and _prefix6); defer or reject only; "
	  "empty = off", params_check_key_limits },
	{ "limits_net_prefix4", P_INT, "24", 1, 32, NULL,
	  "The IPv4 network of a client for limits_net and burst_nets", NULL },
	{ "limits_net_prefix6", P_INT, "64", 1, 128, NULL,
	  "The IPv6 network of a client for limits_net and burst_nets", NULL },
	{ "burst_action", P_ENUM, "suspend", 0, 0, "suspend|reject|defer|off",
	  "What a burst rule does to the message that fires it (suspend: "
	  "the identity too); off = no burst detection", NULL },
	{ "burst_floor", P_INT, "100", 1, LIMITS_COUNT_MAX, NULL,
	  "Messages of an identity in the last hour that never count as a "
	  "volume burst, whatever its baseline", NULL },
	{ "burst_factor", P_INT, "10", 1, 100000, NULL,
	  "A burst is more than this many times the identity's baseline "
	  "(its mean per active hour) in the last hour", NULL },
	{ "burst_baseline_days", P_INT, "7", 1, BURST_DAYS_MAX, NULL,
	  "Days of history behind an identity's baseline", NULL },
	{ "burst_ips", P_INT, "5", 0, 100000, NULL,
	  "More distinct client IPs than this for one identity within "
	  "burst_ip_window is a burst; 0 = off", NULL },
	{ "burst_nets", P_INT, "4", 0, 100000, NULL,
	  "More distinct client networks (limits_net_prefix4/6) than this "
	  "within burst_ip_window is a burst; 0 = off", NULL },
	{ "burst_ip_window", P_TIME, "10m", SEC, 24 * HOUR, NULL,
	  "The window of burst_ips and burst_nets", NULL },
	{ "burst_domains_floor", P_INT, "30", 1, LIMITS_COUNT_MAX, NULL,
	  "Distinct recipient domains of an identity in the last hour that "
	  "never count as a fan-out burst (else burst_factor x its "
	  "baseline)", NULL },
	/* alerts (issue 3 §5, gateway/alerting.h) */
	{ "alert_webhook", P_STR, "", 0, 0, NULL,
	  "Alerts as JSON by HTTP POST to this http:// or https:// URL (a 2xx "
	  "answer is delivered); empty = none", alerting_check_webhook },
	{ "alert_mail_to", P_STR, "", 0, 0, NULL,
	  "Alerts by mail to this address, through the next hop of the first "
	  "inbound listener (smtp or maildir); empty = none",
	  alerting_check_address },
	{ "alert_mail_from", P_STR, "", 0, 0, NULL,
	  "The sender of alert mail; empty = jaga@myhostname",
	  alerting_check_address },
	{ "alert_syslog", P_BOOL, "no", 0, 0, NULL,
	  "Alerts as one syslog line each (facility mail, level alert)", NULL },
	{ "alert_command", P_STR, "", 0, 0, NULL,
	  "Alerts to this program (absolute path, no shell): the JSON on its "
	  "stdin, JAGA_ALERT_KIND and JAGA_ALERT_NAME set; exit 0 is "
	  "delivered; empty = none", alerting_check_command },
	{ "alert_timeout", P_TIME, "10s", 100, 10 * MIN, NULL,
	  "One delivery attempt of an alert (webhook, mail, command)", NULL },
	{ "alert_retry_delay", P_TIME, "5s", 100, HOUR, NULL,
	  "The wait after an alert's first failed attempt; it doubles after "
	  "each further one, up to alert_retry_delay_max", NULL },
	{ "alert_retry_delay_max", P_TIME, "10m", 100, 24 * HOUR, NULL,
	  "The longest wait between two attempts of an alert", NULL },
	{ "alert_retry_time", P_TIME, "1d", 0, 30 * 24 * HOUR, NULL,
	  "How long a failing alert is retried before it is given up", NULL },
	{ "credential_max_age", P_TIME, "90d", 0, 3650 * 24 * HOUR, NULL,
	  "An application credential (jaga user add --app) whose password is "
	  "this old is flagged: a warning at start and once a day, an alert, "
	  "jaga user list; 0 = no age warning", NULL },
	{ "credential_expiry_warning", P_TIME, "14d", 0, 365 * 24 * HOUR, NULL,
	  "An identity or vault entry that expires within this time is "
	  "flagged the same way (expired ones too)", NULL },
	/* the vault of upstream credentials (issue 4 §1, engine/vault.h) */
	{ "vault_file", P_STR, "", 0, 0, NULL,
	  "The vault of upstream relay credentials (jaga vault); a relative "
	  "path is under state_dir; empty = state_dir/vault", NULL },
	{ "vault_key", P_STR, "file:/etc/jaga/vault.key", 0, 0, NULL,
	  "The vault's master key: file:/PATH (32 bytes made by jaga vault "
	  "init, mode 0400, kept apart from the vault), credential:NAME "
	  "(systemd's $CREDENTIALS_DIRECTORY/NAME) or passphrase (Argon2id; "
	  "jaga vault asks for it)", vault_keysrc_check_spec },
	{ "vault_max_age", P_TIME, "90d", 0, 3650 * 24 * HOUR, NULL,
	  "A vault entry not rotated for this long is flagged by jaga vault "
	  "list and by jaga serve (a warning and an alert, as "
	  "credential_max_age); 0 = no age warning", NULL },
	/* DNS for SPF, DKIM and DMARC (issue 5 §1, engine/dns.h) */
	{ "resolver", P_STR, "", 0, 0, NULL,
	  "The DNS resolver: HOST[:PORT] (an IP address, [v6]:PORT with a "
	  "port) forwards every query there, e.g. a local validating unbound "
	  "on 127.0.0.1; empty = jaga recurses from the root itself",
	  dns_resolver_check },
	{ "dns_timeout", P_TIME, "5s", 100, 60 * SEC, NULL,
	  "A DNS query not answered within this time is a temporary error",
	  NULL },
	{ "dns_cache_size", P_INT, "10000", 0, DNS_CACHE_SIZE_MAX, NULL,
	  "Answers kept by jaga's own cache in front of the resolver (each "
	  "for its TTL, at most an hour; NXDOMAIN and NODATA at most 5 "
	  "minutes; failures never), so a repeated SPF, DKIM or DMARC lookup "
	  "skips libunbound; 0 = none", NULL },
	/* SPF, DKIM and DMARC on inbound listeners (issue 5 §5, inauth.h) */
	{ "inbound_auth", P_BOOL, "yes", 0, 0, NULL,
	  "Check SPF (HELO and MAIL FROM), DKIM and DMARC on inbound mail "
	  "without AUTH, add one Authentication-Results header (RFC 8601) "
	  "and apply the DMARC policy", NULL },
	{ "authserv_id", P_STR, "", 0, 0, NULL,
	  "Our authserv-id in Authentication-Results; incoming ones claiming "
	  "it are removed (RFC 8601 §5); empty = myhostname",
	  params_check_hostname },
	{ "dns_threads", P_INT, "32", 1, 64, NULL,
	  "Threads for checks that wait on DNS (SPF, DKIM, DMARC), apart from "
	  "the AUTH and limit checks", NULL },
	{ "public_suffix_list", P_STR, "", 0, 0, NULL,
	  "The Public Suffix List file for DMARC's Organizational Domain "
	  "(RFC 7489 §3.2); empty = Debian's (publicsuffix)", NULL },
	{ "dmarc_enforce", P_BOOL, "yes", 0, 0, NULL,
	  "Apply the DMARC disposition; no = monitor only (the header is "
	  "written, nothing is refused or held)", NULL },
	{ "dmarc_quarantine", P_ENUM, "header", 0, 0, "header|hold",
	  "A DMARC failure with p=quarantine: header adds X-Jaga-Quarantine "
	  "and sends the message on; hold keeps it in state_dir/quarantine "
	  "and does not send it", NULL },
	{ "dmarc_temperror", P_ENUM, "tempfail", 0, 0, "tempfail|accept",
	  "A DNS temporary error that may change the DMARC outcome: answer "
	  "451 4.4.3 (the client retries), or send on with the temperror in "
	  "the header", NULL },
	{ "dmarc_trusted_forwarders", P_LIST, "", 0, 0, NULL,
	  "Client networks (CIDR) whose mail failing DMARC is never refused "
	  "or held (forwarders, mailing lists; RFC 7489 §7.2 "
	  "trusted_forwarder)", params_check_networks },
	{ "dmarc_allow_domains", P_LIST, "", 0, 0, NULL,
	  "From domains (or their Organizational Domain) whose mail failing "
	  "DMARC is never refused or held (RFC 7489 §7.2 local_policy)",
	  params_check_domains },
	{ "log", P_ENUM, "stderr", 0, 0, "stderr|syslog",
	  "Where log lines go", NULL },
	{ "log_level", P_ENUM, "info", 0, 0, "debug|info|warn|error",
	  "The least important level that is logged", NULL },
};

const size_t jaga_nparams = sizeof jaga_params / sizeof jaga_params[0];

/* ---- parsers shared by the checks and settings_load ---- */

static int params_fail(char *msg, size_t msglen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int
params_fail(char *msg, size_t msglen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, msglen, fmt, ap);
	va_end(ap);
	return -1;
}

/* The next entry of a list value (commas and white space separate).
 * Returns its length, 0 at the end, -1 (skipped) when it does not fit. */
static int
params_word(const char **p, char *word, size_t wordlen)
{
	const char *s = *p;
	size_t n;

	s += strspn(s, ", \t");
	n = strcspn(s, ", \t");
	*p = s + n;
	if (n >= wordlen)
		return -1;
	memcpy(word, s, n);
	word[n] = '\0';
	return (int)n;
}

/* A host name: LDH labels of 1..63, 253 bytes in all (RFC 1123 §2.1). */
static int
params_is_domain(const char *d)
{
	size_t n = strlen(d), label = 0, i;

	if (n == 0 || n > PARAMS_DNS_MAX)
		return 0;
	for (i = 0; i <= n; i++) {
		if (d[i] == '.' || d[i] == '\0') {
			if (label == 0 || label > PARAMS_LABEL_MAX ||
			    d[i - 1] == '-')
				return 0;
			label = 0;
		} else if (isalnum((unsigned char)d[i]) ||
		    (d[i] == '-' && label > 0)) {
			label++;
		} else {
			return 0;
		}
	}
	return 1;
}

/* [192.0.2.1] or [IPv6:2001:db8::1] (RFC 5321 §4.1.3). */
static int
params_is_literal(const char *d)
{
	unsigned char a[16];
	char in[64];
	size_t n = strlen(d);

	if (n < 3 || d[0] != '[' || d[n - 1] != ']' || n - 2 >= sizeof in)
		return 0;
	memcpy(in, d + 1, n - 2);
	in[n - 2] = '\0';
	if (strncasecmp(in, "IPv6:", 5) == 0)
		return inet_pton(AF_INET6, in + 5, a) == 1;
	return inet_pton(AF_INET, in, a) == 1;
}

static int
params_network(const char *w, struct cidr *c, char *msg, size_t msglen)
{
	if (cidr_parse(w, c) == 0)
		return 0;
	return params_fail(msg, msglen, "\"%.100s\" is not a network "
	    "(ADDRESS/PREFIX with the host bits zero, e.g. 192.0.2.0/24 or "
	    "2001:db8::/32)", w);
}

static int
params_domain(const char *w, char *msg, size_t msglen)
{
	if (params_is_domain(w) || params_is_literal(w))
		return 0;
	return params_fail(msg, msglen, "\"%.100s\" is not a domain name or "
	    "an address literal like [192.0.2.1]", w);
}

/* Parse a next hop URL; a relative maildir path is put under state_dir
 * (state_dir NULL: left as it is). */
static int
params_nexthop(const char *url, const char *state_dir, struct nexthop_url *u,
    char *msg, size_t msglen)
{
	char err[PARAMS_MSG_MAX / 2], path[sizeof u->path];
	int n;

	if (nexthop_parse_url(url, u, err, sizeof err) < 0)
		return params_fail(msg, msglen, "%s", err);
	if (u->kind != NH_MAILDIR || u->path[0] == '/' || state_dir == NULL)
		return 0;
	n = snprintf(path, sizeof path, "%s/%s", state_dir, u->path);
	if (n < 0 || (size_t)n >= sizeof path)
		return params_fail(msg, msglen, "next hop \"%.100s\": maildir "
		    "path under state_dir is longer than %zu bytes", url,
		    sizeof path - 1);
	memcpy(u->path, path, (size_t)n + 1);
	return 0;
}

static int
params_role(const char *s, size_t len, enum role *r)
{
	static const enum role roles[] = {
		ROLE_INBOUND, ROLE_SUBMISSION, ROLE_SUBMISSIONS,
	};
	size_t i;

	for (i = 0; i < sizeof roles / sizeof roles[0]; i++) {
		const char *name = role_name(roles[i]);
		if (strlen(name) == len && strncmp(name, s, len) == 0) {
			*r = roles[i];
			return 0;
		}
	}
	return -1;
}

/* "vault:NAME" (NAME as engine/vault.h: [A-Za-z0-9._-], at most
 * NEXTHOP_AUTH_MAX); NAME goes to out.  Returns 0, or -1 with a message. */
static int
params_auth(const char *v, char *out, size_t outlen, char *msg,
    size_t msglen)
{
	const char *name = v + 6;
	size_t n = strlen(v) > 6 ? strlen(name) : 0;

	if (strncmp(v, "vault:", 6) != 0 || n == 0 || n > NEXTHOP_AUTH_MAX ||
	    n >= outlen || strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghij"
	    "klmnopqrstuvwxyz0123456789._-") != n)
		return params_fail(msg, msglen, "\"%.100s\": want vault:NAME "
		    "(NAME: letters, digits, '.', '_', '-', at most %d)", v,
		    NEXTHOP_AUTH_MAX);
	memcpy(out, name, n + 1);
	return 0;
}

/* One ";OPTION=VALUE" of a listener: next_hop or next_hop_auth. */
static int
params_listener_opt(const char *e, const char *opt, size_t len,
    const char *state_dir, struct listener_spec *l, int *has, char *msg,
    size_t msglen)
{
	char v[PARAMS_WORD_MAX];

	snprintf(v, sizeof v, "%.*s", (int)len, opt);
	if (strncmp(v, "next_hop=", 9) == 0) {
		has[0] = 1;
		return params_nexthop(v + 9, state_dir, &l->next_hop, msg,
		    msglen);
	}
	if (strncmp(v, "next_hop_auth=", 14) == 0) {
		has[1] = 1;
		return params_auth(v + 14, l->auth, sizeof l->auth, msg, msglen);
	}
	return params_fail(msg, msglen, "\"%.100s\": unknown option "
	    "\"%.40s\" (want ;next_hop=URL or ;next_hop_auth=vault:NAME)", e, v);
}

/* "ROLE=ADDR:PORT[;next_hop=URL][;next_hop_auth=vault:NAME]"; has[0]
 * says whether it names its own next hop, has[1] its own credential
 * (in l->auth).  Returns 0, or -1 with a message. */
static int
params_listener(const char *e, const char *state_dir, struct listener_spec *l,
    int *has, char *msg, size_t msglen)
{
	const char *eq = strchr(e, '='), *semi;
	char addr[PARAMS_WORD_MAX];
	size_t alen;

	memset(l, 0, sizeof *l);
	has[0] = has[1] = 0;
	snprintf(l->text, sizeof l->text, "%s", e);	/* cut: for logs */
	if (eq == NULL)
		return params_fail(msg, msglen, "\"%.100s\": want "
		    "ROLE=ADDR:PORT[;next_hop=URL]", e);
	if (params_role(e, (size_t)(eq - e), &l->role) < 0)
		return params_fail(msg, msglen, "\"%.100s\": unknown role \"%.*s\" "
		    "(use inbound, submission or submissions)", e,
		    (int)(eq - e > 40 ? 40 : eq - e), e);
	semi = strchr(eq + 1, ';');
	alen = semi != NULL ? (size_t)(semi - eq - 1) : strlen(eq + 1);
	memcpy(addr, eq + 1, alen < sizeof addr ? alen : 0);
	addr[alen < sizeof addr ? alen : 0] = '\0';
	if (hostport_parse(addr, &l->addr, &l->addrlen) < 0)
		return params_fail(msg, msglen, "\"%.100s\": bad address \"%.60s\" "
		    "(want IPV4:PORT, [IPV6]:PORT or :PORT)", e, addr);
	while (semi != NULL) {
		const char *opt = semi + 1;

		semi = strchr(opt, ';');
		if (params_listener_opt(e, opt, semi != NULL ?
		    (size_t)(semi - opt) : strlen(opt), state_dir, l, has, msg,
		    msglen) < 0)
			return -1;
	}
	return 0;
}

/* ---- checks run by config_set ---- */

/* Checks return a message in this buffer: configuration is loaded by one
 * thread, before the daemon starts any other. */
static char params_msg[PARAMS_MSG_MAX];

static const char *
params_check_hostname(const char *v)
{
	if (v[0] == '\0' || params_is_domain(v))
		return NULL;
	params_fail(params_msg, sizeof params_msg, "\"%.100s\" is not a host "
	    "name (letters, digits, '-' and '.')", v);
	return params_msg;
}

static const char *
params_check_listen(const char *v)
{
	struct listener_spec l;
	char w[PARAMS_WORD_MAX];
	int n, has[2], count = 0;

	while ((n = params_word(&v, w, sizeof w)) != 0) {
		if (n < 0) {
			params_fail(params_msg, sizeof params_msg, "an entry is "
			    "longer than %d bytes", PARAMS_WORD_MAX - 1);
			return params_msg;
		}
		if (params_listener(w, NULL, &l, has, params_msg,
		    sizeof params_msg) < 0)
			return params_msg;
		count++;
	}
	return count > 0 ? NULL : "at least one listener is required";
}

/* Run fn on every entry of a list value; the first failure is the message. */
static const char *
params_check_each(const char *v, int (*fn)(const char *, char *, size_t))
{
	char w[PARAMS_WORD_MAX];
	int n;

	while ((n = params_word(&v, w, sizeof w)) != 0) {
		if (n < 0) {
			params_fail(params_msg, sizeof params_msg, "an entry is "
			    "longer than %d bytes", PARAMS_WORD_MAX - 1);
			return params_msg;
		}
		if (fn(w, params_msg, sizeof params_msg) < 0)
			return params_msg;
	}
	return NULL;
}

static int
params_network_ok(const char *w, char *msg, size_t msglen)
{
	struct cidr c;

	return params_network(w, &c, msg, msglen);
}

static const char *
params_check_domains(const char *v)
{
	return params_check_each(v, params_domain);
}

static const char *
params_check_networks(const char *v)
{
	return params_check_each(v, params_network_ok);
}

static const char *
params_check_next_hop_auth(const char *v)
{
	char name[NEXTHOP_AUTH_MAX + 1];

	if (v[0] == '\0' || params_auth(v, name, sizeof name, params_msg,
	    sizeof params_msg) == 0)
		return NULL;
	return params_msg;
}

static const char *
params_check_next_hop(const char *v)
{
	struct nexthop_url u;

	if (v[0] == '\0' || params_nexthop(v, NULL, &u, params_msg,
	    sizeof params_msg) == 0)
		return NULL;
	return params_msg;
}

/* ---- settings_load ---- */

struct params_priv {
	struct listener_spec *listeners;
	char **domains;			/* NULL-terminated, each owned */
	struct cidr *trusted;
	char helo_name[256];
};

struct params_ctx {
	struct settings *s;
	struct params_priv *p;
	const struct config *c;
	struct buf *errs;
	int problems;
	char msg[PARAMS_MSG_MAX];
};

/* One line in errs: "ORIGIN: NAME: message", ORIGIN where the value was
 * set (none for a default). */
static void params_err(struct params_ctx *x, const char *name,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void
params_err(struct params_ctx *x, const char *name, const char *fmt, ...)
{
	const char *origin = config_origin(x->c, name);
	va_list ap;

	x->problems++;
	if (x->errs == NULL)
		return;
	if (origin != NULL)
		buf_printf(x->errs, "%s: ", origin);
	buf_printf(x->errs, "%s: ", name);
	va_start(ap, fmt);
	buf_vprintf(x->errs, fmt, ap);
	va_end(ap);
	buf_puts(x->errs, "\n");
}

static void
params_load_host(struct params_ctx *x)
{
	const char *h = config_str(x->c, "myhostname");
	struct settings *s = x->s;

	if (h[0] != '\0') {
		if (!params_is_domain(h))
			params_err(x, "myhostname", "\"%.100s\" is not a host "
			    "name (letters, digits, '-' and '.')", h);
		snprintf(s->hostname, sizeof s->hostname, "%s", h);
	} else if (gethostname(s->hostname, sizeof s->hostname - 1) < 0) {
		params_err(x, "myhostname", "cannot get the system host name "
		    "(%s); set myhostname", strerror(errno));
	} else {
		s->hostname[sizeof s->hostname - 1] = '\0';
		if (!params_is_domain(s->hostname))
			params_err(x, "myhostname", "the system host name "
			    "\"%.100s\" is not a valid host name; set myhostname",
			    s->hostname);
	}
	snprintf(x->p->helo_name, sizeof x->p->helo_name, "%s", s->hostname);
}

/* A P_TIME or P_INT value that the table bounds to fit in unsigned. */
static unsigned
params_uint(const struct config *c, const char *name)
{
	return (unsigned)config_int(c, name);
}

static void
params_load_numbers(struct params_ctx *x)
{
	const struct config *c = x->c;
	struct settings *s = x->s;
	struct nexthop_timeouts *t = &s->nh_timeouts;

	s->message_size_limit = (size_t)config_int(c, "message_size_limit");
	s->max_recipients = params_uint(c, "max_recipients");
	s->max_sessions = params_uint(c, "max_sessions");
	s->max_sessions_per_ip = params_uint(c, "max_sessions_per_ip");
	s->max_errors = params_uint(c, "max_errors");
	s->workers = params_uint(c, "workers");
	s->nh_cache = params_uint(c, "next_hop_cache");
	s->nh_cache_ms = params_uint(c, "next_hop_cache_time");
	s->nh_pipelining = config_int(c, "next_hop_pipelining") != 0;
	s->shutdown_timeout_ms = params_uint(c, "shutdown_timeout");
	s->run_as = config_str(c, "run_as");
	s->bare_lf = strcmp(config_str(c, "bare_newline"), "normalize") == 0 ?
	    BARE_LF_NORMALIZE : BARE_LF_REJECT;
	s->smtputf8 = config_int(c, "smtputf8") != 0;
	s->greet_pause_ms = params_uint(c, "greet_pause");
	s->command_timeout_ms = params_uint(c, "command_timeout");
	s->data_timeout_ms = params_uint(c, "data_timeout");
	t->connect_ms = params_uint(c, "next_hop_connect_timeout");
	t->greeting_ms = params_uint(c, "next_hop_greeting_timeout");
	t->command_ms = params_uint(c, "next_hop_command_timeout");
	t->data_init_ms = params_uint(c, "next_hop_data_init_timeout");
	t->data_block_ms = params_uint(c, "next_hop_data_block_timeout");
	t->data_done_ms = params_uint(c, "next_hop_data_done_timeout");
}

/* AUTH brute-force lockout (issue 3 §6). */
static void
params_load_auth(struct params_ctx *x)
{
	const struct config *c = x->c;
	struct lockout_params *p = &x->s->lockout;

	p->ip_failures = params_uint(c, "auth_ip_failures");
	p->window_ms = config_int(c, "auth_window");
	p->ip_lock_ms = config_int(c, "auth_ip_lockout");
	p->ip_lock_max_ms = config_int(c, "auth_ip_lockout_max");
	p->spray_accounts = params_uint(c, "auth_spray_accounts");
	p->account_ips = params_uint(c, "auth_account_ips");
	p->account_failures = params_uint(c, "auth_account_failures");
	p->account_lock_ms = config_int(c, "auth_account_lockout");
	p->max_entries = (size_t)config_int(c, "auth_lockout_entries");
	x->s->auth_fail_delay_ms = params_uint(c, "auth_fail_delay");
	if (p->ip_lock_max_ms < p->ip_lock_ms)
		params_err(x, "auth_ip_lockout_max",
		    "must be at least auth_ip_lockout");
}

static void
params_load_files(struct params_ctx *x)
{
	static const struct { const char *name; enum nh_tls_mode mode; }
	    modes[] = {
		{ "none", NH_TLS_NONE }, { "may", NH_TLS_MAY },
		{ "encrypt", NH_TLS_ENCRYPT }, { "verify", NH_TLS_VERIFY },
	};
	const char *mode = config_str(x->c, "next_hop_tls");
	struct settings *s = x->s;
	size_t i;

	s->state_dir = config_str(x->c, "state_dir");
	s->tls_cert_file = config_str(x->c, "tls_cert_file");
	s->tls_key_file = config_str(x->c, "tls_key_file");
	s->user_table = config_str(x->c, "user_table");
	s->limits_default = config_str(x->c, "limits_default");
	s->store = config_str(x->c, "store");
	if (s->state_dir[0] == '\0')
		params_err(x, "state_dir", "must not be empty");
	if ((s->tls_cert_file[0] == '\0') != (s->tls_key_file[0] == '\0'))
		params_err(x, s->tls_cert_file[0] ? "tls_key_file" :
		    "tls_cert_file", "set both tls_cert_file and tls_key_file,"
		    " or neither");
	for (i = 0; i < sizeof modes / sizeof modes[0]; i++)
		if (strcmp(mode, modes[i].name) == 0)
			s->nh_tls.mode = modes[i].mode;
	s->nh_tls.ca_file = config_str(x->c, "next_hop_tls_ca_file");
	s->nh_tls.helo_name = x->p->helo_name;
}

/* The limit keys beyond the identity and the burst rules. */
static void
params_load_guard(struct params_ctx *x)
{
	static const char *const acts[] = { "defer", "reject", "suspend" };
	const struct config *c = x->c;
	struct guard_keys *k = &x->s->guard;
	const char *act = config_str(c, "burst_action");
	struct burst_params *b = &k->burst;

	k->sender = config_str(c, "limits_sender");
	k->sender_domain = config_str(c, "limits_sender_domain");
	k->ip = config_str(c, "limits_ip");
	k->net = config_str(c, "limits_net");
	k->prefix4 = b->prefix4 = params_uint(c, "limits_net_prefix4");
	k->prefix6 = b->prefix6 = params_uint(c, "limits_net_prefix6");
	k->burst_on = strcmp(act, "off") != 0;
	for (size_t i = 0; i < 3; i++)
		if (strcmp(act, acts[i]) == 0)
			b->action = (enum limits_action)i;
	b->floor = params_uint(c, "burst_floor");
	b->factor = params_uint(c, "burst_factor");
	b->baseline_days = params_uint(c, "burst_baseline_days");
	b->ips = params_uint(c, "burst_ips");
	b->nets = params_uint(c, "burst_nets");
	b->ip_window = params_uint(c, "burst_ip_window") / 1000;
	b->domains_floor = params_uint(c, "burst_domains_floor");
}

static size_t
params_count(const char *const *w)
{
	size_t n = 0;

	while (w[n] != NULL)
		n++;
	return n;
}

/* The global next_hop, if set and good (1), else 0. */
static int
params_global_nexthop(struct params_ctx *x, struct nexthop_url *u)
{
	const char *v = config_str(x->c, "next_hop");

	if (v[0] == '\0')
		return 0;
	if (params_nexthop(v, x->s->state_dir, u, x->msg, sizeof x->msg) == 0)
		return 1;
	params_err(x, "next_hop", "%s", x->msg);
	return 0;
}

/* Two listeners on one address cannot both bind. */
static int
params_dup_listener(struct params_ctx *x, const struct listener_spec *l,
    const char *entry)
{
	size_t i;

	for (i = 0; i < x->s->nlisteners; i++) {
		const struct listener_spec *o = &x->p->listeners[i];
		if (o->addrlen == l->addrlen &&
		    memcmp(&o->addr, &l->addr, l->addrlen) == 0) {
			params_err(x, "listen", "\"%.100s\": address already "
			    "used by \"%s\"", entry, o->text);
			return 1;
		}
	}
	return 0;
}

/* The listener's own next_hop_auth; else, with the global next hop, the
 * global one.  Only an SMTP next hop can log in. */
static int
params_listener_auth(struct params_ctx *x, struct listener_spec *l,
    const int *has, const char *entry)
{
	const char *v = config_str(x->c, "next_hop_auth");
	char *auth = l->next_hop.auth;

	if (has[1])
		snprintf(auth, sizeof l->next_hop.auth, "%s", l->auth);
	else if (!has[0] && v[0] != '\0' &&
	    params_auth(v, auth, sizeof l->next_hop.auth, x->msg,
	    sizeof x->msg) < 0) {
		params_err(x, "next_hop_auth", "%s", x->msg);
		return -1;
	}
	if (auth[0] != '\0' && l->next_hop.kind != NH_SMTP) {
		params_err(x, has[1] ? "listen" : "next_hop_auth", "\"%.100s\": "
		    "AUTH needs an smtp:// next hop", entry);
		return -1;
	}
	return 0;
}

static void
params_load_listeners(struct params_ctx *x)
{
	const char *const *w = config_list(x->c, "listen");
	size_t n = params_count(w), i;
	struct nexthop_url global;
	int have_global = params_global_nexthop(x, &global), has[2];
	int no_global = config_str(x->c, "next_hop")[0] == '\0';

	if (n == 0) {
		params_err(x, "listen", "at least one listener is required");
		return;
	}
	if ((x->p->listeners = calloc(n, sizeof *x->p->listeners)) == NULL) {
		params_err(x, "listen", "out of memory");
		return;
	}
	x->s->listeners = x->p->listeners;
	for (i = 0; i < n; i++) {
		struct listener_spec *l = &x->p->listeners[x->s->nlisteners];
		if (params_listener(w[i], x->s->state_dir, l, has, x->msg,
		    sizeof x->msg) < 0) {
			params_err(x, "listen", "%s", x->msg);
			continue;
		}
		if (!has[0] && no_global)
			params_err(x, "listen", "\"%.100s\": no next hop (set "
			    "next_hop or add ;next_hop=URL)", w[i]);
		if (!has[0] && !have_global)
			continue;
		if (!has[0])
			l->next_hop = global;
		if (params_listener_auth(x, l, has, w[i]) < 0)
			continue;
		if (!params_dup_listener(x, l, w[i]))
			x->s->nlisteners++;
	}
}

static void
params_load_domains(struct params_ctx *x)
{
	const char *const *w = config_list(x->c, "local_domains");
	size_t n = params_count(w), i, k = 0;
	char *d, *p;

	if ((x->p->domains = calloc(n + 1, sizeof *x->p->domains)) == NULL) {
		params_err(x, "local_domains", "out of memory");
		return;
	}
	x->s->local_domains = (const char *const *)x->p->domains;
	for (i = 0; i < n; i++) {
		if (params_domain(w[i], x->msg, sizeof x->msg) < 0) {
			params_err(x, "local_domains", "%s", x->msg);
			continue;
		}
		if ((d = strdup(w[i])) == NULL) {
			params_err(x, "local_domains", "out of memory");
			return;
		}
		/* Domains compare without case (RFC 5321 §2.4). */
		for (p = d; *p != '\0'; p++)
			*p = (char)tolower((unsigned char)*p);
		x->p->domains[k++] = d;
	}
}

static void
params_load_trusted(struct params_ctx *x)
{
	const char *const *w = config_list(x->c, "trusted_networks");
	size_t n = params_count(w), i;

	if ((x->p->trusted = calloc(n ? n : 1, sizeof *x->p->trusted)) ==
	    NULL) {
		params_err(x, "trusted_networks", "out of memory");
		return;
	}
	x->s->trusted = x->p->trusted;
	for (i = 0; i < n; i++) {
		if (params_network(w[i], &x->p->trusted[x->s->ntrusted], x->msg,
		    sizeof x->msg) < 0)
			params_err(x, "trusted_networks", "%s", x->msg);
		else
			x->s->ntrusted++;
	}
}

int
settings_load(struct settings *s, const struct config *c, struct buf *errs)
{
	struct params_ctx x;

	memset(s, 0, sizeof *s);
	memset(&x, 0, sizeof x);
	x.s = s;
	x.c = c;
	x.errs = errs;
	s->cfg = c;
	if ((x.p = calloc(1, sizeof *x.p)) == NULL) {
		if (errs != NULL)
			buf_puts(errs, "settings: out of memory\n");
		return 1;
	}
	s->priv = x.p;
	params_load_host(&x);
	params_load_numbers(&x);
	params_load_auth(&x);
	params_load_files(&x);
	params_load_listeners(&x);
	params_load_domains(&x);
	params_load_trusted(&x);
	params_load_guard(&x);
	/* Half-built settings are of no use to anyone: free them now, so a
	 * caller that forgets settings_done on failure leaks nothing. */
	if (x.problems > 0)
		settings_done(s);
	return x.problems;
}

void
settings_done(struct settings *s)
{
	struct params_priv *p = s->priv;
	size_t i;

	if (p != NULL) {
		for (i = 0; p->domains != NULL && p->domains[i] != NULL; i++)
			free(p->domains[i]);
		free(p->domains);
		free(p->listeners);
		free(p->trusted);
		free(p);
	}
	memset(s, 0, sizeof *s);
}

const char *
role_name(enum role r)
{
	switch (r) {
	case ROLE_INBOUND:
		return "inbound";
	case ROLE_SUBMISSION:
		return "submission";
	case ROLE_SUBMISSIONS:
		return "submissions";
	}
	return "?";
}

/* limits_sender, _sender_domain, _ip, _net: the form of engine/limits.h
 * without suspend (only an identity can be suspended). */
static const char *
params_check_key_limits(const char *v)
{
	static _Thread_local char msg[160];
	struct limits_spec spec;

	if (limits_parse(&spec, v, msg, sizeof msg) < 0)
		return msg;
	for (size_t i = 0; i < spec.nrules; i++)
		if (spec.rule[i].action == LIMITS_SUSPEND)
			return "action=suspend suspends an identity; use defer or "
			    "reject on this key";
	return NULL;
}

/* limits_default: the form of engine/limits.h. */
static const char *
params_check_limits(const char *v)
{
	static _Thread_local char msg[160];
	struct limits_spec spec;

	if (limits_parse(&spec, v, msg, sizeof msg) == 0)
		return NULL;
	return msg;
}

/* store: sqlite, or a Redis URL (engine/redisdb.h). */
static const char *
params_check_store(const char *v)
{
	return strcmp(v, "sqlite") == 0 ? NULL : redisdb_url_check(v);
}
