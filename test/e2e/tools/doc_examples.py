#!/usr/bin/env python3
"""doc_examples.py - run the examples a Markdown file shows and check the output it shows.

usage: doc_examples.py --port PORT --dir DIR FILE.md...

An example is a ```sh block right after an HTML comment line `<!-- doc-test -->`. When the next
fenced block (only blank lines between) is a ```text block, it is the example's expected
standard output: line for line, where `…` in an expected line stands for any text (ids, times,
sizes). Every example of a file runs in order in ONE bash (`set -eu` as a reader's shell, working directory
DIR), so variables carry from one to the next, exactly as a reader typing them would; the only
change made to the text is the port: `127.0.0.1:8080` becomes `127.0.0.1:PORT`. An example fails
when its commands fail or its output differs; the exit status is 1 when any failed.
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile

MARK = "<!-- doc-test -->"


def blocks(lines):
    """(line number, info string, text) of every fenced block, in order."""
    out, i = [], 0
    while i < len(lines):
        m = re.match(r"^```(\S*)\s*$", lines[i])
        if not m:
            i += 1
            continue
        start, body, i = i + 1, [], i + 1
        while i < len(lines) and lines[i].rstrip() != "```":
            body.append(lines[i])
            i += 1
        out.append((start, m.group(1), "".join(body)))
        i += 1
    return out


def examples(path):
    """(line, commands, expected or None) of every example in the file."""
    with open(path, encoding="utf-8") as f:
        lines = f.readlines()
    found = []
    fenced = blocks(lines)
    for k, (start, info, text) in enumerate(fenced):
        prev = start - 2  # the line before the opening fence
        while prev >= 0 and lines[prev].strip() == "":
            prev -= 1
        if info != "sh" or prev < 0 or lines[prev].strip() != MARK:
            continue
        expected = None
        if k + 1 < len(fenced) and fenced[k + 1][1] == "text":
            gap = lines[start + text.count("\n") + 1 : fenced[k + 1][0] - 1]
            if all(g.strip() == "" for g in gap):
                expected = fenced[k + 1][2]
        found.append((start, text, expected))
    return found


def matches(expected, actual):
    """Line for line; `…` in an expected line matches any text."""
    e = expected.rstrip("\n").split("\n")
    a = actual.rstrip("\n").split("\n")
    if len(e) != len(a):
        return False
    for el, al in zip(e, a):
        pat = "".join(".*" if p == "…" else re.escape(p) for p in re.split("(…)", el))
        if not re.fullmatch(pat, al):
            return False
    return True


def run_file(path, port, workdir):
    exs = examples(path)
    if not exs:
        print(f"{path}: no examples marked {MARK}", file=sys.stderr)
        return 1
    outdir = tempfile.mkdtemp(prefix="doc_examples.", dir=workdir)
    script = ["set -eu"]
    for n, (_, text, _) in enumerate(exs):
        text = text.replace("127.0.0.1:8080", f"127.0.0.1:{port}")
        script += [f"{{", text, f"}} >'{outdir}/{n}.out'", f"echo {n} >'{outdir}/done'"]
    proc = subprocess.run(["bash", "-c", "\n".join(script)], cwd=workdir, text=True,
                          stderr=subprocess.PIPE)
    done = -1
    if os.path.exists(f"{outdir}/done"):
        done = int(open(f"{outdir}/done").read())
    failed = 0
    for n, (line, text, expected) in enumerate(exs):
        where = f"{path}:{line}"
        if n > done:
            print(f"FAIL {where}: the example failed (exit {proc.returncode})\n{text}"
                  f"stderr:\n{proc.stderr}", file=sys.stderr)
            return 1
        actual = open(f"{outdir}/{n}.out", encoding="utf-8", errors="replace").read()
        if expected is not None and not matches(expected, actual):
            print(f"FAIL {where}: output differs\n--- shown\n{expected}--- got\n{actual}",
                  file=sys.stderr)
            failed = 1
        else:
            print(f"ok {where}{'' if expected is not None else ' (ran)'}")
    return failed


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", required=True)
    ap.add_argument("--dir", required=True)
    ap.add_argument("files", nargs="+")
    a = ap.parse_args()
    rc = 0
    for f in a.files:
        rc |= run_file(os.path.abspath(f), a.port, a.dir)
    return rc


if __name__ == "__main__":
    sys.exit(main())
