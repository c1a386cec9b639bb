/* cmd_vault_test.c - "jaga vault test NAME [--next-hop URL]": log in to
 * the upstream with vault entry NAME exactly as the daemon does
 * (gateway/nh_smtp.c: STARTTLS with certificate and name verification,
 * then AUTH PLAIN or LOGIN with the secret decrypted in locked memory)
 * and report success or the server's reply.  The secret is never
 * printed: the next-hop log lines on stderr name the entry, the user and
 * the server's reply, as in the daemon's log (docs/logging.md).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <event2/thread.h>

#include "cli/cli_config.h"
#include "cli/cmd.h"
#include "gateway/nexthop.h"
#include "gateway/nh_auth.h"
#include "gateway/params.h"
#include "util/jobq.h"

static const char vt_usage[] =
"usage: jaga vault test NAME [--next-hop URL] [-c FILE] [-o name=value]...\n"
"\n"
"Log in to the upstream with vault entry NAME as the daemon would:\n"
"STARTTLS with certificate and host name verification (trust store:\n"
"next_hop_tls_ca_file), then AUTH PLAIN or LOGIN.  The upstream is the\n"
"next hop configured with next_hop_auth = vault:NAME, or URL\n"
"(smtp://HOST[:PORT]).  Exit 0 when the upstream accepted the login;\n"
"the upstream's reply is in the \"nexthop auth\" line on stderr.  The\n"
"secret is never printed.\n";

struct vt_opts {
	const char *file, *url, *name;
	struct buf overrides;
};

struct vt_result {
	struct event_base *base;
	int done;
	struct smtp_reply r;
};

/* Options; returns -1 to go on, else the exit status. */
static int
vt_args(int argc, char **argv, struct vt_opts *o)
{
	static const struct option longopts[] = {
		{ "next-hop", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "c:o:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': o->file = optarg; break;
		case 'o': buf_append(&o->overrides, optarg, strlen(optarg) + 1);
			break;
		case 'n': o->url = optarg; break;
		case 'h': fputs(vt_usage, stdout); return 0;
		default: fputs(vt_usage, stderr); return 2;
		}
	}
	if (optind + 1 != argc) {
		fputs(vt_usage, stderr);
		return 2;
	}
	o->name = argv[optind];
	return -1;
}

/* The upstream: --next-hop URL, else the first next hop using NAME. */
static int
vt_url(const struct settings *st, const struct vt_opts *o,
    struct nexthop_url *u, char *err, size_t errlen)
{
	size_t i;

	if (o->url != NULL) {
		if (nexthop_parse_url(o->url, u, err, errlen) < 0)
			return -1;
	} else {
		for (i = 0; i < st->nlisteners; i++)
			if (strcmp(st->listeners[i].next_hop.auth, o->name) == 0)
				break;
		if (i == st->nlisteners) {
			snprintf(err, errlen, "no next hop uses vault:%.64s "
			    "(set next_hop_auth, or give --next-hop URL)",
			    o->name);
			return -1;
		}
		*u = st->listeners[i].next_hop;
	}
	if (u->kind != NH_SMTP) {
		snprintf(err, errlen, "%s: AUTH needs an smtp:// next hop",
		    u->text);
		return -1;
	}
	if (strlen(o->name) >= sizeof u->auth) {
		snprintf(err, errlen, "entry name too long");
		return -1;
	}
	snprintf(u->auth, sizeof u->auth, "%s", o->name);
	return 0;
}

static void
vt_opened(void *arg, const struct smtp_reply *r, int n)
{
	struct vt_result *x = arg;

	(void)n;
	x->r = *r;
	x->done = 1;
	event_base_loopbreak(x->base);
}

/* Open one connection (STARTTLS, AUTH), then QUIT.  0 when logged in. */
static int
vt_login(const struct settings *st, const struct nexthop_url *u)
{
	struct vt_result x = { 0 };
	struct nh_conn *c;

	evthread_use_pthreads();
	if ((x.base = event_base_new()) == NULL || jobq_start(1) < 0) {
		fprintf(stderr, "jaga vault test: cannot start\n");
		return -1;
	}
	c = nh_conn_new(x.base, u, &st->nh_tls, &st->nh_timeouts, "-");
	if (c != NULL) {
		nh_open(c, vt_opened, &x);
		while (!x.done && event_base_dispatch(x.base) == 0)
			;
		nh_conn_free(c);	/* QUIT, answered within 2 s */
		while (nh_quitting() && event_base_loop(x.base,
		    EVLOOP_ONCE) == 0)
			;
	}
	jobq_stop();
	event_base_free(x.base);
	if (!x.done || x.r.code != 250) {
		printf("vault test %s: failed: %s: %d %s %s\n", u->auth, u->text,
		    x.r.code, x.r.enh, x.r.text);
		return -1;
	}
	printf("vault test %s: ok: %s accepted the login\n", u->auth, u->text);
	return 0;
}

static int
vt_run(const struct vt_opts *o)
{
	struct config *cfg = cli_config_load("jaga vault test", o->file,
	    &o->overrides);
	struct nexthop_url u;
	struct settings st;
	struct buf errs;
	char err[512];
	int r = 1;

	if (cfg == NULL)
		return 1;
	buf_init(&errs, 64 * 1024);
	if (settings_load(&st, cfg, &errs) != 0)
		fprintf(stderr, "jaga vault test: the configuration has "
		    "errors:\n%s", errs.data ? errs.data : "");
	else if (vt_url(&st, o, &u, err, sizeof err) < 0 ||
	    nh_auth_setup(cfg, err, sizeof err) < 0 ||
	    nh_auth_check(o->name, err, sizeof err) < 0)
		fprintf(stderr, "jaga vault test: %s\n", err);
	else
		r = vt_login(&st, &u) == 0 ? 0 : 1;
	nh_auth_done();
	settings_done(&st);
	buf_done(&errs);
	config_free(cfg);
	return r;
}

int
cmd_vault_test(int argc, char **argv)
{
	struct vt_opts o = { 0 };
	int r;

	buf_init(&o.overrides, 256 * 1024);
	r = vt_args(argc, argv, &o);
	if (r < 0)
		r = vt_run(&o);
	buf_done(&o.overrides);
	return r;
}
