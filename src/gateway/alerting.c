/* alerting.c - the alert_* parameters and the alerts of suspensions and
 * lockouts (see alerting.h). */
#include "gateway/alerting.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "engine/rotation.h"
#include "gateway/params.h"
#include "util/log.h"
#include "util/netaddr.h"

#define ALERTING_URL_MAX	2048

const char *
alerting_check_webhook(const char *v)
{
	CURLU *u;
	int ok;

	if (v[0] == '\0')
		return NULL;
	if (strncasecmp(v, "https://", 8) != 0 &&
	    strncasecmp(v, "http://", 7) != 0)
		return "want an http:// or https:// URL";
	if (strlen(v) > ALERTING_URL_MAX || strpbrk(v, " \t\r\n") != NULL)
		return "not a URL (too long, or white space in it)";
	if ((u = curl_url()) == NULL)
		return "out of memory";
	ok = curl_url_set(u, CURLUPART_URL, v, 0) == CURLUE_OK;
	curl_url_cleanup(u);
	return ok ? NULL : "not a valid URL";
}

/* local@domain, as it goes into MAIL FROM and RCPT TO. */
const char *
alerting_check_address(const char *v)
{
	const char *at = strrchr(v, '@');

	if (v[0] == '\0')
		return NULL;
	if (at == NULL || at == v || at[1] == '\0' || strlen(v) > 254)
		return "want an address local@domain";
	for (const unsigned char *p = (const unsigned char *)v; *p; p++)
		if (*p <= ' ' || *p >= 0x7f || strchr("<>()[],;:\\\"", *p))
			return "want a plain address local@domain (no "
			    "spaces, brackets or quotes)";
	return NULL;
}

const char *
alerting_check_command(const char *v)
{
	if (v[0] == '\0')
		return NULL;
	if (v[0] != '/')
		return "want an absolute path (the command runs without a "
		    "shell)";
	if (access(v, X_OK) < 0)
		return "not an executable file";
	return NULL;
}

/* The listener whose next hop alert mail goes through: the first inbound
 * one, else the first. */
static const struct listener_spec *
alerting_listener(const struct settings *st)
{
	for (size_t i = 0; i < st->nlisteners; i++)
		if (st->listeners[i].role == ROLE_INBOUND)
			return &st->listeners[i];
	return st->nlisteners > 0 ? &st->listeners[0] : NULL;
}

/* smtp://ADDR:PORT/OUR-NAME of our own inbound listener (the wildcard
 * address as loopback): libcurl speaks no LMTP, so alert mail for an LMTP
 * next hop goes in the way mail for local_domains does. */
static void
alerting_self_url(const struct settings *st, const struct listener_spec *l,
    char *url, size_t urllen)
{
	struct sockaddr_storage ss = l->addr;
	char ip[INET6_ADDRSTRLEN];
	int v6 = ss.ss_family == AF_INET6;

	if (v6 && IN6_IS_ADDR_UNSPECIFIED(&((struct sockaddr_in6 *)&ss)->sin6_addr))
		((struct sockaddr_in6 *)&ss)->sin6_addr = in6addr_loopback;
	else if (!v6 && ((struct sockaddr_in *)&ss)->sin_addr.s_addr ==
	    htonl(INADDR_ANY))
		((struct sockaddr_in *)&ss)->sin_addr.s_addr =
		    htonl(INADDR_LOOPBACK);
	sockaddr_ntop((const struct sockaddr *)&ss, ip, sizeof ip);
	snprintf(url, urllen, "smtp://%s%s%s:%u/%s", v6 ? "[" : "", ip,
	    v6 ? "]" : "", sockaddr_port((const struct sockaddr *)&ss),
	    st->hostname);
}

/* smtp://HOST:PORT/OUR-NAME (libcurl takes the path as the EHLO name), or
 * the Maildir.  Returns 1 when the URL is our own listener (no STARTTLS
 * needed), else 0; "" for both when alert mail cannot go (logged). */
static int
alerting_mail_route(const struct settings *st, char *url, size_t urllen,
    const char **maildir)
{
	const struct listener_spec *l = alerting_listener(st);
	const struct nexthop_url *u = l != NULL ? &l->next_hop : NULL;
	int v6 = u != NULL && strchr(u->host, ':') != NULL;

	url[0] = '\0';
	*maildir = "";
	if (u != NULL && u->kind == NH_SMTP)
		snprintf(url, urllen, "smtp://%s%s%s:%u/%s", v6 ? "[" : "",
		    u->host, v6 ? "]" : "", u->port, st->hostname);
	else if (u != NULL && u->kind == NH_MAILDIR)
		*maildir = u->path;
	else if (u != NULL && l->role == ROLE_INBOUND)
		return alerting_self_url(st, l, url, urllen), 1;
	else
		log_msg(LOG_LVL_WARN, "config", "alert_mail_to: the next hop "
		    "is LMTP and there is no inbound listener to take alert "
		    "mail; no alert goes by mail");
	return 0;
}

int
alerting_new(const struct settings *st, struct alerter **out, char *err,
    size_t errlen)
{
	const struct config *c = st->cfg;
	char from[300], url[600];
	struct alert_config ac = {
		.state_dir = st->state_dir, .hostname = st->hostname,
		.webhook = config_str(c, "alert_webhook"),
		.mail_to = config_str(c, "alert_mail_to"),
		.mail_from = config_str(c, "alert_mail_from"),
		.mail_tls = (enum alert_tls)st->nh_tls.mode,
		.mail_ca_file = st->nh_tls.ca_file,
		.syslog = config_int(c, "alert_syslog") != 0,
		.command = config_str(c, "alert_command"),
		.timeout_ms = config_int(c, "alert_timeout"),
		.retry_min_ms = config_int(c, "alert_retry_delay"),
		.retry_max_ms = config_int(c, "alert_retry_delay_max"),
		.retry_time_ms = config_int(c, "alert_retry_time"),
	};

	*out = NULL;
	if (!ac.webhook[0] && !ac.mail_to[0] && !ac.syslog && !ac.command[0])
		return 0;
	if (ac.mail_from[0] == '\0') {
		snprintf(from, sizeof from, "jaga@%s", st->hostname);
		ac.mail_from = from;
	}
	if (ac.mail_to[0] &&
	    alerting_mail_route(st, url, sizeof url, &ac.mail_maildir))
		ac.mail_tls = ALERT_TLS_NONE;	/* to ourselves, in the host */
	ac.mail_smtp = ac.mail_to[0] ? url : "";
	*out = alert_new(&ac, err, errlen);
	return *out != NULL ? 0 : -1;
}

/* A name as one shell word: as it is when it is plain, else in single
 * quotes (POSIX XCU §2.2.3), so the lift command can be pasted. */
static void
alerting_shell_word(const char *s, char *out, size_t outlen)
{
	struct buf b;

	buf_init(&b, outlen > 0 ? outlen - 1 : 0);
	if (s[0] != '\0' && strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJ"
	    "KLMNOPQRSTUVWXYZ0123456789@%+=:,./_-") == strlen(s)) {
		buf_puts(&b, s);
	} else {
		buf_puts(&b, "'");
		for (; *s != '\0'; s++)
			buf_append(&b, *s == '\'' ? "'\\''" : s, *s == '\'' ?
			    4 : 1);
		buf_puts(&b, "'");
	}
	snprintf(out, outlen, "%s", b.data != NULL ? b.data : "''");
	buf_done(&b);
}

void
alerting_suspended(struct alerter *a, const struct suspension *su)
{
	/* a name of STORE_NAME_MAX octets, each quoted as '\'' at worst */
	char word[4 * STORE_NAME_MAX + 3], lift[sizeof word + 32];

	if (a == NULL)
		return;
	alerting_shell_word(su->name, word, sizeof word);
	snprintf(lift, sizeof lift, "jaga suspend lift %s", word);
	alert_post(a, &(struct alert){
		.kind = ALERT_SUSPENSION, .name = su->name, .time = su->since,
		.rule = su->rule, .evidence = su->evidence, .lift = lift,
	});
}

/* A lockout clock deadline as Unix seconds. */
static int64_t
alerting_wall(int64_t until_ms, int64_t now_ms)
{
	return (int64_t)time(NULL) + (until_ms - now_ms + 999) / 1000;
}

void
alerting_lockout(struct alerter *a, const char *ip, const char *user,
    const struct lockout_event *ev, int64_t now_ms)
{
	char rule[128], evid[512], lift[ALERT_TEXT_MAX];
	struct alert al = { .time = (int64_t)time(NULL), .rule = rule,
	    .evidence = evid, .lift = lift };

	if (a == NULL)
		return;
	if (ev->ip_locked != LOCKOUT_NONE) {
		const char *why = ev->ip_locked == LOCKOUT_SPRAYING ?
		    "spraying" : "failures";
		snprintf(rule, sizeof rule, "reason=%s strikes=%u", why,
		    ev->ip_strikes);
		snprintf(evid, sizeof evid, "{\"ip\":\"%s\",\"reason\":"
		    "\"%s\",\"strikes\":%u}", ip, why, ev->ip_strikes);
		snprintf(lift, sizeof lift, "ends by itself (auth_ip_lockout, "
		    "doubling per strike); a restart of jaga ends it at once");
		al.kind = ALERT_IP_LOCKOUT;
		al.name = ip;
		al.until = alerting_wall(ev->ip_until, now_ms);
		alert_post(a, &al);
	}
	if (ev->account_locked) {
		snprintf(rule, sizeof rule, "ips=%u failures=%u",
		    ev->account_ips, ev->account_failures);
		snprintf(evid, sizeof evid, "{\"ips\":%u,\"failures\":%u,"
		    "\"last_ip\":\"%s\"}", ev->account_ips,
		    ev->account_failures, ip);
		snprintf(lift, sizeof lift, "ends by itself "
		    "(auth_account_lockout); a restart of jaga ends it at once;"
		    " check the password is strong: jaga user passwd NAME");
		al.kind = ALERT_ACCOUNT_LOCKOUT;
		al.name = user;
		al.until = alerting_wall(ev->account_until, now_ms);
		alert_post(a, &al);
	}
}

/* Unix seconds as 2026-11-23T06:30:00Z ("never" for 0). */
static void
alerting_time(int64_t t, char *out, size_t outlen)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (t == 0 || gmtime_r(&tt, &tm) == NULL)
		snprintf(out, outlen, "never");
	else
		strftime(out, outlen, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void
alerting_credential(struct alerter *a, const struct alerting_cred *c)
{
	char word[4 * STORE_NAME_MAX + 3], lift[2 * sizeof word + 64];
	char changed[32], expires[32], rule[128], evid[512];
	int age = c->kind == ALERT_CREDENTIAL_AGE;

	if (a == NULL)
		return;
	alerting_shell_word(c->name, word, sizeof word);
	alerting_time(c->changed, changed, sizeof changed);
	alerting_time(c->expires, expires, sizeof expires);
	if (strcmp(c->what, "vault") == 0)
		snprintf(lift, sizeof lift, "jaga vault rotate %s", word);
	else if (age)
		snprintf(lift, sizeof lift, "jaga user passwd %s", word);
	else
		snprintf(lift, sizeof lift, "jaga user passwd %s and jaga user "
		    "set %s --expires DAYS (a new lifetime)", word, word);
	if (age)
		snprintf(rule, sizeof rule, "age_days=%lld max_days=%lld",
		    (long long)c->age_days, (long long)c->max_days);
	else
		snprintf(rule, sizeof rule, "expires=%s days_left=%lld",
		    expires, (long long)c->days_left);
	snprintf(evid, sizeof evid, "{\"kind\":\"%s\",\"changed\":\"%s\","
	    "\"expires\":\"%s\",\"age_days\":%lld}", c->what, changed,
	    expires, (long long)rotation_days(c->changed, c->now));
	alert_post(a, &(struct alert){ .kind = c->kind, .name = c->name,
	    .time = c->now, .rule = rule, .evidence = evid, .lift = lift });
}
