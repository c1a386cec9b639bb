/* cmd_dkim.c - "jaga dkim": verify every signature of a message, sign one,
 * make a key and the TXT record to publish (issue 5 §3; engine/dkim.h).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli_config.h"
#include "cli/cli_dns.h"
#include "cli/cmd.h"
#include "engine/dkim.h"
#include "engine/dns.h"
#include "util/config.h"

#define DKIMCMD_MSG_MAX (64u << 20)	/* octets of one message */
#define DKIMCMD_KEYS 4			/* signatures per "sign" */

static const char dkim_usage[] =
"usage: jaga dkim verify [FILE] [--resolver HOST[:PORT] | --dns-file FILE]\n"
"                        [-c CONFIG] [--now UNIXTIME]\n"
"       jaga dkim sign --domain D --selector S --key FILE [--key FILE2\n"
"                      [--selector S2]] [--canon H/B] [--time T]\n"
"                      [--expire SECONDS] [FILE]\n"
"       jaga dkim keygen --domain D --selector S [--type rsa|ed25519]\n"
"                        [--bits N] [--out FILE]\n"
"\n"
"verify asks the resolver of the configuration (parameter resolver) or\n"
"--resolver, or reads keys from a file of \"NAME TXT-VALUE\" lines; it\n"
"prints one line per signature: d= s= a= result= reason=; the exit\n"
"status is 0 when one passes, 1 otherwise.  sign writes the message with\n"
"one DKIM-Signature per key on top (rsa-sha256 or ed25519-sha256, by the\n"
"key's type; relaxed/relaxed unless --canon).  keygen writes the private\n"
"key (mode 0600; default DOMAIN.SELECTOR.key) and prints the TXT record.\n";

struct dkimcmd_opts {
	const char *domain, *resolver, *dnsfile, *out, *type, *canon, *cfg;
	const char *sel[DKIMCMD_KEYS], *key[DKIMCMD_KEYS];
	int nsel, nkey, bits;
	long long now, t, expire;
};

static long long
dkimcmd_num(const char *s)
{
	char *end;
	long long v = strtoll(s, &end, 10);

	return *s == '\0' || *end != '\0' || v < 0 ? -1 : v;
}

/* Options; returns -1 to go on, else the exit status. */
static int
dkimcmd_args(int argc, char **argv, struct dkimcmd_opts *o)
{
	static const struct option longopts[] = {
		{ "domain", required_argument, NULL, 'd' },
		{ "selector", required_argument, NULL, 's' },
		{ "key", required_argument, NULL, 'k' },
		{ "resolver", required_argument, NULL, 'r' },
		{ "dns-file", required_argument, NULL, 'f' },
		{ "now", required_argument, NULL, 'n' },
		{ "time", required_argument, NULL, 't' },
		{ "expire", required_argument, NULL, 'x' },
		{ "canon", required_argument, NULL, 'C' },
		{ "type", required_argument, NULL, 'y' },
		{ "bits", required_argument, NULL, 'b' },
		{ "out", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': o->cfg = optarg; break;
		case 'd': o->domain = optarg; break;
		case 'r': o->resolver = optarg; break;
		case 'f': o->dnsfile = optarg; break;
		case 'C': o->canon = optarg; break;
		case 'y': o->type = optarg; break;
		case 'o': o->out = optarg; break;
		case 'b': o->bits = (int)dkimcmd_num(optarg); break;
		case 'n': o->now = dkimcmd_num(optarg); break;
		case 't': o->t = dkimcmd_num(optarg); break;
		case 'x': o->expire = dkimcmd_num(optarg); break;
		case 's': case 'k':
			if ((c == 's' ? o->nsel : o->nkey) == DKIMCMD_KEYS)
				goto bad;
			if (c == 's')
				o->sel[o->nsel++] = optarg;
			else
				o->key[o->nkey++] = optarg;
			break;
		case 'h': fputs(dkim_usage, stdout); return 0;
		default: goto bad;
		}
	}
	if (o->bits >= 0 && o->now >= 0 && o->t >= 0 && o->expire >= 0 &&
	    argc - optind <= 1)
		return -1;
bad:
	fputs(dkim_usage, stderr);
	return 2;
}

/* The whole message from path ("-" or NULL: stdin), bounded. */
static char *
dkimcmd_read(const char *path, size_t *len)
{
	FILE *f = path && strcmp(path, "-") ? fopen(path, "rb") : stdin;
	size_t cap = 65536, n = 0, r;
	char *d = NULL, *nd;

	if (f == NULL)
		return NULL;
	while ((nd = realloc(d, cap)) != NULL) {
		d = nd;
		r = fread(d + n, 1, cap - n, f);
		n += r;
		if (n < cap || cap >= DKIMCMD_MSG_MAX)
			break;
		cap *= 2;
	}
	if (f != stdin)
		fclose(f);
	if (nd == NULL || n == cap) {	/* out of memory, or too long */
		free(d);
		return NULL;
	}
	*len = n;
	return d;
}

/* Keys from --dns-file, or through libunbound: --resolver, else the
 * configuration's resolver and dns_timeout (as "jaga dns"). */
static struct dns_lookup *
dkimcmd_dns(const struct dkimcmd_opts *o)
{
	struct dns_lookup *l;
	struct config *cfg;
	struct buf none;

	if (o->dnsfile != NULL) {
		if ((l = dkim_dnsfile_new(o->dnsfile)) == NULL)
			fprintf(stderr, "jaga dkim: cannot read %s\n", o->dnsfile);
		return l;
	}
	buf_init(&none, 16);
	cfg = cli_config_load("jaga dkim", o->cfg, &none);
	buf_done(&none);
	if (cfg == NULL)
		return NULL;
	l = cli_dns("jaga dkim", cfg, o->resolver);
	config_free(cfg);
	return l;
}

static int
dkimcmd_verify(const struct dkimcmd_opts *o, const char *path)
{
	struct dkim_res res[DKIM_VERIFY_MAX];
	struct dns_lookup *dns;
	struct dkim_msg *m;
	size_t len, n;
	char *raw;
	int pass = 0;

	if ((raw = dkimcmd_read(path, &len)) == NULL) {
		fprintf(stderr, "jaga dkim: cannot read the message\n");
		return 1;
	}
	m = dkim_msg_parse(raw, len);
	free(raw);
	if (m == NULL || (dns = dkimcmd_dns(o)) == NULL) {
		dkim_msg_free(m);
		return 1;
	}
	n = dkim_verify(m, dns, o->now ? (time_t)o->now : time(NULL), res,
	    DKIM_VERIFY_MAX);
	if (n == 0)
		printf("result=none reason=\"no signature\"\n");
	for (size_t i = 0; i < n; i++) {
		printf("d=%s s=%s a=%s result=%s reason=\"%s\"", res[i].d[0] ?
		    res[i].d : "-", res[i].s[0] ? res[i].s : "-",
		    dkim_alg_name(res[i].alg), dkim_result_name(res[i].result),
		    res[i].reason);
		if (res[i].l >= 0)
			printf(" l=%lld", (long long)res[i].l);
		printf("%s\n", res[i].testing ? " testing=y" : "");
		pass |= res[i].result == DKIM_PASS;
	}
	dns_lookup_free(dns);
	dkim_msg_free(m);
	return pass ? 0 : 1;
}

/* Write a field, with LF line ends when the message used LF. */
static void
dkimcmd_put(const char *s, int lf)
{
	for (; *s; s++)
		if (!(lf && s[0] == '\r' && s[1] == '\n'))
			putchar(*s);
}

static int
dkimcmd_canon(const char *s, struct dkim_signopt *so)
{
	so->hcanon = so->bcanon = DKIM_RELAXED;
	if (s == NULL || strcmp(s, "relaxed/relaxed") == 0)
		return 0;
	if (strcmp(s, "simple/simple") == 0 || strcmp(s, "simple") == 0)
		so->hcanon = so->bcanon = DKIM_SIMPLE;
	else if (strcmp(s, "relaxed/simple") == 0 || strcmp(s, "relaxed") == 0)
		so->bcanon = DKIM_SIMPLE;
	else if (strcmp(s, "simple/relaxed") == 0)
		so->hcanon = DKIM_SIMPLE;
	else
		return -1;
	return 0;
}

static char *
dkimcmd_sign_one(const struct dkimcmd_opts *o, const struct dkim_msg *m,
    int i, struct dkim_signopt *so)
{
	char why[160];
	struct dkim_signkey *k = dkim_signkey_load(o->key[i], why, sizeof why);
	char *f = NULL;

	so->selector = o->sel[o->nsel == 1 ? 0 : i];
	if (k != NULL)
		f = dkim_sign(m, k, so, why, sizeof why);
	if (f == NULL)
		fprintf(stderr, "jaga dkim: %s: %s\n", o->key[i], why);
	dkim_signkey_free(k);
	return f;
}

static int
dkimcmd_sign(const struct dkimcmd_opts *o, const char *path)
{
	struct dkim_signopt so = { .domain = o->domain };
	char *raw, *sig[DKIMCMD_KEYS] = { NULL };
	struct dkim_msg *m;
	size_t len;
	int i, rc = 0;

	if (o->domain == NULL || o->nkey == 0 || o->nsel == 0 ||
	    (o->nsel != 1 && o->nsel != o->nkey) || dkimcmd_canon(o->canon,
	    &so) < 0) {
		fputs(dkim_usage, stderr);
		return 2;
	}
	so.t = o->t ? (time_t)o->t : time(NULL);
	so.x = o->expire ? so.t + (time_t)o->expire : 0;
	if ((raw = dkimcmd_read(path, &len)) == NULL ||
	    (m = dkim_msg_parse(raw, len)) == NULL) {
		fprintf(stderr, "jaga dkim: cannot read the message\n");
		free(raw);
		return 1;
	}
	for (i = 0; i < o->nkey && rc == 0; i++)
		if ((sig[i] = dkimcmd_sign_one(o, m, i, &so)) == NULL)
			rc = 1;
	for (i = 0; i < o->nkey && rc == 0; i++)
		dkimcmd_put(sig[i], memmem(raw, len, "\r\n", 2) == NULL);
	if (rc == 0)
		fwrite(raw, 1, len, stdout);
	for (i = 0; i < o->nkey; i++)
		free(sig[i]);
	dkim_msg_free(m);
	free(raw);
	return rc;
}

/* The record as one zone line, in strings of at most 255 octets
 * (RFC 1035 §3.3.14). */
static void
dkimcmd_txt(const char *sel, const char *domain, const char *txt)
{
	size_t len = strlen(txt);

	printf("%s._domainkey.%s. IN TXT (", sel, domain);
	for (size_t i = 0; i < len; i += 255)
		printf(" \"%.*s\"", (int)(len - i < 255 ? len - i : 255),
		    txt + i);
	printf(" )\n");
}

static int
dkimcmd_keygen(const struct dkimcmd_opts *o)
{
	char path[1024], txt[2048], why[256];
	const char *type = o->type ? o->type : "rsa";

	if (o->domain == NULL || o->nsel != 1) {
		fputs(dkim_usage, stderr);
		return 2;
	}
	if (o->out)
		snprintf(path, sizeof path, "%s", o->out);
	else
		snprintf(path, sizeof path, "%s.%s.key", o->domain, o->sel[0]);
	if (dkim_keygen(type, o->bits ? o->bits : 2048, path, txt, sizeof txt,
	    why, sizeof why) < 0) {
		fprintf(stderr, "jaga dkim keygen: %s\n", why);
		return 1;
	}
	fprintf(stderr, "jaga dkim keygen: private key in %s (mode 0600); "
	    "publish:\n", path);
	dkimcmd_txt(o->sel[0], o->domain, txt);
	return 0;
}

int
cmd_dkim(int argc, char **argv)
{
	struct dkimcmd_opts o = { .bits = 0 };
	const char *verb = argc > 1 ? argv[1] : "";
	int rc;

	if (strcmp(verb, "--help") == 0 || strcmp(verb, "-h") == 0) {
		fputs(dkim_usage, stdout);
		return 0;
	}
	if (strcmp(verb, "verify") && strcmp(verb, "sign") &&
	    strcmp(verb, "keygen")) {
		fputs(dkim_usage, stderr);
		return 2;
	}
	if ((rc = dkimcmd_args(argc - 1, argv + 1, &o)) >= 0)
		return rc;
	if (strcmp(verb, "verify") == 0)
		return dkimcmd_verify(&o, argv[optind + 1]);
	if (strcmp(verb, "sign") == 0)
		return dkimcmd_sign(&o, argv[optind + 1]);
	return dkimcmd_keygen(&o);
}
