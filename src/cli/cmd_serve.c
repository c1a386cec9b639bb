/* cmd_serve.c - "jaga serve": load the configuration and run the daemon. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli_config.h"
#include "cli/cmd.h"
#include "gateway/params.h"
#include "gateway/server.h"
#include "util/harden.h"
#include "util/log.h"

#define DEFAULT_CONFIG JAGA_CONFIG_PATH

static const char serve_usage[] =
"usage: jaga serve [-c FILE] [-o name=value]... [--listen ROLE=ADDR:PORT]...\n"
"                  [--local-domain DOMAIN]... [--next-hop URL]\n"
"\n"
"Run the gateway.  Without -c, " DEFAULT_CONFIG " is read when it exists;\n"
"otherwise the embedded defaults apply (\"jaga config defaults\" lists them).\n"
"\n"
"  -c FILE                 configuration file (Postfix main.cf syntax)\n"
"  -o name=value           override one parameter (repeatable)\n"
"  --listen ROLE=ADDR:PORT listener; ROLE is inbound, submission or\n"
"                          submissions; may end in ;next_hop=URL (repeatable)\n"
"  --local-domain DOMAIN   a domain inbound mail is accepted for (repeatable)\n"
"  --next-hop URL          smtp://HOST:PORT, lmtp://HOST:PORT,\n"
"                          lmtp:unix:/PATH or maildir:/PATH\n";

/* Words collected from repeatable options into one list value. */
struct serve_opts {
	const char *file;
	struct buf listen, domains, overrides;
	const char *next_hop;
};

static int
serve_args(int argc, char **argv, struct serve_opts *o)
{
	static const struct option longopts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "local-domain", required_argument, NULL, 'd' },
		{ "next-hop", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "c:o:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': o->file = optarg; break;
		case 'o': buf_append(&o->overrides, optarg, strlen(optarg) + 1); break;
		case 'l': buf_printf(&o->listen, "%s%s", o->listen.len ? ", " : "", optarg); break;
		case 'd': buf_printf(&o->domains, "%s%s", o->domains.len ? ", " : "", optarg); break;
		case 'n': o->next_hop = optarg; break;
		case 'h': fputs(serve_usage, stdout); return 0;
		default: fputs(serve_usage, stderr); return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "jaga serve: unexpected argument \"%s\"\n%s",
		    argv[optind], serve_usage);
		return 2;
	}
	return -1;
}

static int
serve_configure(struct config *cfg, const struct serve_opts *o,
    struct buf *errs)
{
	int bad = 0;

	if (cli_config_file(cfg, o->file, errs) != 0)
		return 1;
	if (o->listen.len)
		bad += config_set(cfg, "listen", o->listen.data, "--listen", errs) < 0;
	if (o->domains.len)
		bad += config_set(cfg, "local_domains", o->domains.data,
		    "--local-domain", errs) < 0;
	if (o->next_hop)
		bad += config_set(cfg, "next_hop", o->next_hop, "--next-hop",
		    errs) < 0;
	return bad + cli_config_overrides(cfg, &o->overrides, errs);
}

static int
serve_state_dir(const char *dir)
{
	if (mkdir(dir, 0750) < 0 && errno != EEXIST) {
		log_msg(LOG_LVL_ERR, "config", "cannot create state_dir %s: %s",
		    dir, strerror(errno));
		return -1;
	}
	return 0;
}

static void
serve_log_setup(const struct config *cfg)
{
	static const char *levels[] = { "debug", "info", "warn", "error" };
	enum log_level lvl = LOG_LVL_INFO;

	for (int i = 0; i < 4; i++)
		if (strcmp(config_str(cfg, "log_level"), levels[i]) == 0)
			lvl = (enum log_level)i;
	log_setup(strcmp(config_str(cfg, "log"), "syslog") == 0 ?
	    LOG_TO_SYSLOG : LOG_TO_STDERR, lvl);
}

static int
serve_run(struct config *cfg)
{
	struct settings st;
	struct buf errs;
	int r;

	buf_init(&errs, 64 * 1024);
	if (settings_load(&st, cfg, &errs) != 0) {
		fprintf(stderr, "jaga serve: the configuration has errors:\n%s",
		    errs.data ? errs.data : "");
		buf_done(&errs);
		return 1;
	}
	buf_done(&errs);
	serve_log_setup(cfg);
	/* AUTH passwords and upstream secrets pass through this process:
	 * no core file (it stays debuggable with gdb/ptrace) */
	harden_no_core(0);
	r = serve_state_dir(st.state_dir) == 0 && server_run(&st) == 0 ? 0 : 1;
	settings_done(&st);
	return r;
}

int
cmd_serve(int argc, char **argv)
{
	struct serve_opts o = { 0 };
	struct config *cfg;
	struct buf errs;
	int r;

	buf_init(&o.listen, 64 * 1024);
	buf_init(&o.domains, 64 * 1024);
	buf_init(&o.overrides, 256 * 1024);
	buf_init(&errs, 64 * 1024);
	r = serve_args(argc, argv, &o);
	if (r < 0 && (cfg = config_new(jaga_params, jaga_nparams)) != NULL) {
		if (serve_configure(cfg, &o, &errs) != 0) {
			fprintf(stderr, "jaga serve: the configuration has "
			    "errors:\n%s", errs.data ? errs.data : "");
			r = 1;
		} else {
			r = serve_run(cfg);
		}
		config_free(cfg);
	}
	buf_done(&o.listen);
	buf_done(&o.domains);
	buf_done(&o.overrides);
	buf_done(&errs);
	return r < 0 ? 1 : r;
}
