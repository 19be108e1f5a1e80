#!/usr/bin/env python3
"""man.py - the man pages of geobatch, made from its --help so that they cannot drift.

usage: man.py BIN OUTDIR API_MD    write OUTDIR/man1/geobatch.1, OUTDIR/man1/geobatch-CMD.1 for
                                   every command `BIN --help` lists, OUTDIR/man7/geobatch-api.7
                                   from docs/api.md
       man.py --check BIN MANDIR API_MD
                                   exit 1 unless MANDIR holds exactly those pages and the text of
                                   each page is the --help (or api.md) it came from

The one source is the binary's help: geobatch(1) is `geobatch --help`, geobatch-CMD(1) is
`geobatch CMD --help` (NAME from the command list, SYNOPSIS from the usage line, the whole help
text verbatim under DESCRIPTION); geobatch-api(7) is docs/api.md verbatim. CMake runs the first
form at every build, `make install` installs the result, test/e2e/install.sh runs the second.
"""
import re
import subprocess
import sys

START, END = ".nf", ".fi"


def run_help(bin_path, *args):
    out = subprocess.run([bin_path, *args, "--help"], check=True, stdout=subprocess.PIPE,
                         text=True, env={"PATH": "/usr/bin:/bin", "LC_ALL": "C.UTF-8"}).stdout
    return out


def commands(main_help):
    """(name, summary) of every command the top-level help lists."""
    out, inside = [], False
    for line in main_help.splitlines():
        if line.startswith("commands:"):
            inside = True
            continue
        if inside:
            m = re.match(r"^  (\S+)\s+(.*)$", line)
            if not m:
                break
            out.append((m.group(1), m.group(2)))
    return out


def esc(text):
    """Verbatim text for a .nf block: backslashes, dashes and leading dots escaped."""
    lines = []
    for line in text.rstrip("\n").split("\n"):
        line = line.replace("\\", "\\e").replace("-", "\\-")
        if line.startswith((".", "'")):
            line = "\\&" + line
        lines.append(line)
    return "\n".join(lines) + "\n"


def unesc(text):
    return re.sub(r"\\(e|-|&)", lambda m: {"e": "\\", "-": "-", "&": ""}[m.group(1)], text)


def page(name, section, summary, synopsis, body, see_also, version):
    title = name.upper()
    out = [f'.TH {title} {section} "" "{version}" "geobatch manual"', ".SH NAME",
           f"{name} \\- {esc(summary).strip()}"]
    if synopsis:
        out += [".SH SYNOPSIS", ".nf", esc(synopsis).rstrip("\n"), ".fi"]
    out += [".SH DESCRIPTION", START, esc(body).rstrip("\n"), END]
    if see_also:
        out += [".SH SEE ALSO", ", ".join(f"\\fB{n}\\fR({s})" for n, s in see_also)]
    return "\n".join(out) + "\n"


def pages(bin_path, api_md):
    """{relative path: (text, the source text its DESCRIPTION must give back)}"""
    main = run_help(bin_path)
    version = subprocess.run([bin_path, "version"], check=True, stdout=subprocess.PIPE,
                             text=True).stdout.split("\n")[0]
    cmds = commands(main)
    if not cmds:
        raise SystemExit(f"man.py: no commands in `{bin_path} --help`")
    out = {}
    see = [(f"geobatch-{c}", 1) for c, _ in cmds] + [("geobatch-api", 7)]
    out["man1/geobatch.1"] = (page("geobatch", 1, "a self-hosted batch geocoder (HERE Batch "
                                   "Geocoder 6.2 job API)", "geobatch COMMAND [OPTIONS] [ARGS]",
                                   main, see, version), main)
    for c, summary in cmds:
        text = run_help(bin_path, c)
        usage = text.split("\n")[0]
        synopsis = usage[len("usage: "):] if usage.startswith("usage: ") else ""
        out[f"man1/geobatch-{c}.1"] = (page(f"geobatch-{c}", 1, summary, synopsis, text,
                                            [("geobatch", 1)], version), text)
    with open(api_md, encoding="utf-8") as f:
        api = f.read()
    out["man7/geobatch-api.7"] = (page("geobatch-api", 7, "the HERE Batch Geocoder 6.2 job API "
                                       "as geobatch serve answers it", "", api,
                                       [("geobatch-serve", 1)], version), api)
    return out


def description(text):
    """The verbatim text of a page's DESCRIPTION, unescaped."""
    lines = text.split("\n")
    i = lines.index(".SH DESCRIPTION")
    assert lines[i + 1] == START
    j = lines.index(END, i + 2)
    return unesc("\n".join(lines[i + 2:j]) + "\n")


def main(argv):
    import os
    if len(argv) == 5 and argv[1] == "--check":
        bin_path, mandir, api_md = argv[2:]
        want = pages(bin_path, api_md)
        have = set()
        for sec in ("man1", "man7"):
            d = os.path.join(mandir, sec)
            for f in os.listdir(d) if os.path.isdir(d) else []:
                if f.startswith("geobatch"):
                    have.add(f"{sec}/{f}")
        bad = sorted(set(want) ^ have)
        for rel in sorted(set(want) & have):
            with open(os.path.join(mandir, rel), encoding="utf-8") as f:
                text = f.read()
            if text != want[rel][0] or description(text) != want[rel][1].rstrip("\n") + "\n":
                bad.append(rel)
        for rel in bad:
            print(f"man.py: {os.path.join(mandir, rel)}: missing, extra or not the --help",
                  file=sys.stderr)
        return 1 if bad else 0
    if len(argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    bin_path, outdir, api_md = argv[1:]
    made = pages(bin_path, api_md)
    for sec in ("man1", "man7"):  # a command that is gone takes its page with it
        d = os.path.join(outdir, sec)
        for f in os.listdir(d) if os.path.isdir(d) else []:
            if f.startswith("geobatch") and f"{sec}/{f}" not in made:
                os.remove(os.path.join(d, f))
    for rel, (text, _) in made.items():
        path = os.path.join(outdir, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path + ".tmp", "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(path + ".tmp", path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
