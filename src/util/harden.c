/* harden.c - keep secrets out of core files (see harden.h). */
#include "util/harden.h"

#include <sys/prctl.h>
#include <sys/resource.h>

void
harden_no_core(int no_ptrace)
{
	struct rlimit rl = { 0, 0 };

	(void)setrlimit(RLIMIT_CORE, &rl);
	if (no_ptrace)
		(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}
