/* utf8.c - UTF-8 well-formedness (RFC 3629 §4). */
#include "util/utf8.h"

size_t
utf8_seq(const unsigned char *p, size_t n)
{
	unsigned char lo = 0x80, hi = 0xBF;
	size_t need, i;

	if (p[0] == 0xC2)
		lo = 0xA0;
	if (p[0] >= 0xC2 && p[0] <= 0xDF)
		need = 1;
	else if (p[0] >= 0xE0 && p[0] <= 0xEF)
		need = 2;
	else if (p[0] >= 0xF0 && p[0] <= 0xF4)
		need = 3;
	else
		return 0;
	if (p[0] == 0xE0)
		lo = 0xA0;		/* overlong */
	else if (p[0] == 0xED)
		hi = 0x9F;		/* UTF-16 surrogates */
	else if (p[0] == 0xF0)
		lo = 0x90;		/* overlong */
	else if (p[0] == 0xF4)
		hi = 0x8F;		/* above U+10FFFF */
	if (n < need + 1 || p[1] < lo || p[1] > hi)
		return 0;
	for (i = 2; i <= need; i++)
		if (p[i] < 0x80 || p[i] > 0xBF)
			return 0;
	return need + 1;
}
