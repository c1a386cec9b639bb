/* harden.h - keep secrets out of core files (the project's rule: secrets
 * never appear in logs, argv, core files or test output). */
#ifndef JAGA_UTIL_HARDEN_H
#define JAGA_UTIL_HARDEN_H

/* No core file from this process (RLIMIT_CORE 0, soft and hard, so it
 * cannot be raised again).  With no_ptrace, also not dumpable: other
 * processes of the same user cannot ptrace it or read its memory through
 * /proc (prctl(2) PR_SET_DUMPABLE).  Failures are ignored: both only
 * narrow what the process allows. */
void harden_no_core(int no_ptrace);

#endif
