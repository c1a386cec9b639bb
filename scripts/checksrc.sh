#!/bin/sh
# checksrc.sh - refuse the string calls DESIGN.md forbids (after curl's
# checksrc.pl).  Prints each hit as FILE:LINE and exits 1 when there is one.
cd "$(dirname "$0")/.." || exit 2
hits=$(grep -rnE '\b(strcpy|strcat|sprintf|vsprintf|strtok|atoi|atol|gets)[[:space:]]*\(' \
	src tests/unit fuzz --include='*.c' --include='*.h' | grep -vE '^[^:]+:[0-9]+:[[:space:]]*(/\*|\*)')
if [ -n "$hits" ]; then
	echo "checksrc: unsafe string calls (use snprintf, memcpy with bounds, strtol):"
	echo "$hits"
	exit 1
fi
echo "checksrc: no unsafe string calls"
