#!/usr/bin/python3
"""md_section.py FILE TITLE - replace the section "## TITLE" of FILE (up to
the next "## " heading) with standard input, or append it when FILE has no
such section: bench scripts' --write keeps one section each."""
import sys

path, title = sys.argv[1], "## " + sys.argv[2]
new = sys.stdin.read().strip("\n") + "\n"
try:
    lines = open(path).read().split("\n")
except FileNotFoundError:
    lines = []
start = next((i for i, l in enumerate(lines) if l.strip() == title), None)
if start is None:
    text = "\n".join(lines).rstrip("\n") + "\n\n" + new
else:
    end = next((i for i in range(start + 1, len(lines))
                if lines[i].startswith("## ")), len(lines))
    rest = "\n".join(lines[end:])
    text = "\n".join(lines[:start]).rstrip("\n") + "\n\n" + new
    if rest.strip():
        text += "\n" + rest.rstrip("\n") + "\n"
open(path, "w").write(text.lstrip("\n"))
