#!/usr/bin/env python3
"""report.py - print build/bench/results.tsv as a readable table.

    report.py RESULTS.TSV

The TSV has a header line and the columns section, figure, value, unit, goal, verdict,
command. The table shows one row per figure with a reference [n] to its command; the
commands follow, numbered, once each. Standard library only.
"""
import sys


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: report.py RESULTS.TSV")
    rows = []
    with open(sys.argv[1], encoding="utf-8") as fp:
        head = fp.readline().rstrip("\n").split("\t")
        for ln in fp:
            f = ln.rstrip("\n").split("\t")
            rows.append(dict(zip(head, f + [""] * (len(head) - len(f)))))
    cmds, ref = [], {}
    for r in rows:
        c = r.get("command", "")
        if c and c not in ref:
            cmds.append(c)
            ref[c] = len(cmds)
    def cut(s, n):
        return s if len(s) <= n else s[: n - 3] + "..."

    w_fig = min(64, max([len(r["figure"]) for r in rows] + [6]))
    w_val = min(24, max([len((r["value"] + " " + r["unit"]).strip()) for r in rows] + [5]))
    w_goal = max([len(r["goal"]) for r in rows] + [4])
    fmt = "  %-*s  %*s  %-*s  %-7s %s"
    section = None
    for r in rows:
        if r["section"] != section:
            section = r["section"]
            print("\n%s" % section)
            print(fmt % (w_fig, "figure", w_val, "value", w_goal, "goal", "verdict", "cmd"))
        c = r.get("command", "")
        val = (r["value"] + " " + r["unit"]).strip()
        line = fmt % (w_fig, cut(r["figure"], w_fig), w_val, val, w_goal, r["goal"], r["verdict"],
                      "[%d]" % ref[c] if c else "")
        print(line.rstrip())
    if cmds:
        print("\ncommands")
        for i, c in enumerate(cmds, 1):
            print("  [%d] %s" % (i, c))


if __name__ == "__main__":
    main()
