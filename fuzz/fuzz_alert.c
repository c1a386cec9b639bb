/* fuzz_alert.c - an alert's JSON, mail subject and body (engine/
 * alert_text.c) on arbitrary bytes: the first line is the name (peer
 * input: an AUTH user name), the rest the evidence, whose reader walks
 * JSON it did not make checks for. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/alert.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char out[ALERT_JSON_MAX], small[64];
	char *in = malloc(size + 1), *nl;
	struct alert al = { .kind = (enum alert_kind)(size % 3),
	    .time = 1795415400, .rule = "messages=1/60s action=suspend",
	    .lift = "jaga suspend lift x", .until = size & 1 ? 1795415460 : 0 };

	if (in == NULL)
		return 0;
	memcpy(in, data, size);
	in[size] = '\0';
	al.name = in;
	al.evidence = "";
	if ((nl = strchr(in, '\n')) != NULL) {
		*nl = '\0';
		al.evidence = nl + 1;
	}
	alert_json(&al, "gw.test", out, sizeof out);
	alert_json(&al, "gw.test", small, sizeof small);
	alert_subject(&al, out, sizeof out);
	alert_body(&al, "gw.test", out, sizeof out);
	alert_body(&al, "gw.test", small, sizeof small);
	free(in);
	return 0;
}
