/* harness.h - a very small table-driven test harness.
 *
 *   CHECK(cond, "what %s", x)       records a pass or a failure
 *   CHECK_STR(got, want, "case")    compares strings, prints got/want
 *   CHECK_INT(got, want, "case")    compares integers
 *   return harness_end("addr");     prints "addr: N passed, N failed"
 */
#ifndef JAGA_TESTS_HARNESS_H
#define JAGA_TESTS_HARNESS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int harness_pass, harness_fail;

#define CHECK(cond, ...) do {						\
	if (cond) {							\
		harness_pass++;						\
	} else {							\
		harness_fail++;						\
		fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);	\
		fprintf(stderr, __VA_ARGS__);				\
		fputc('\n', stderr);					\
	}								\
} while (0)

#define CHECK_STR(got, want, ...) do {					\
	const char *g_ = (got), *w_ = (want);				\
	int ok_ = (g_ && w_) ? strcmp(g_, w_) == 0 : g_ == w_;		\
	CHECK(ok_, __VA_ARGS__);					\
	if (!ok_)							\
		fprintf(stderr, "  got:  %s\n  want: %s\n",		\
		    g_ ? g_ : "(null)", w_ ? w_ : "(null)");		\
} while (0)

#define CHECK_INT(got, want, ...) do {					\
	long long g_ = (long long)(got), w_ = (long long)(want);	\
	CHECK(g_ == w_, __VA_ARGS__);					\
	if (g_ != w_)							\
		fprintf(stderr, "  got:  %lld\n  want: %lld\n", g_, w_);\
} while (0)

static inline int
harness_end(const char *name)
{
	printf("%s: %d passed, %d failed\n", name, harness_pass, harness_fail);
	return harness_fail ? 1 : 0;
}

/* A file of the third-party test data (../shared/testdata/SOURCES.md):
 * under $JAGA_TESTDATA (tests/run_all.sh sets it), else ../shared/testdata
 * seen from the source root (the tests' working directory).  Four results
 * can be in use at once. */
static inline const char *
testdata(const char *rel)
{
	static char buf[4][1024];
	static int k;
	const char *base = getenv("JAGA_TESTDATA");
	char *b = buf[k++ % 4];

	snprintf(b, sizeof buf[0], "%s/%s",
	    base != NULL && *base ? base : "../shared/testdata", rel);
	return b;
}

#endif
