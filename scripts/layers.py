#!/usr/bin/env python3
"""layers.py - the layer check: every #include in src/ goes to the file's own folder or to a
folder that ARCHITECTURE.md's layer table lets it include, and no two modules include each other
(directly or through others).

    python3 scripts/layers.py [ROOT]

The allowed includes are read from ARCHITECTURE.md, the rows of the form
    | `folder/` | what it knows | `a/` `b/` |
so the document and the check cannot drift apart. Exit 0 when clean, 1 with one line per
violation otherwise."""
import os
import re
import sys

root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), '..')
src = os.path.join(root, 'src')
allowed = {}
for line in open(os.path.join(root, 'ARCHITECTURE.md'), encoding='utf-8'):
    cells = [c.strip() for c in line.strip().strip('|').split('|')]
    if len(cells) >= 3 and re.fullmatch(r'`[a-z]+/`', cells[0]):
        allowed[cells[0][1:-2]] = set(re.findall(r'`([a-z]+)/`', cells[-1]))

def module_of(path):
    """x.c, x.h and x_int.h (what x's files share and no one else sees) are one module."""
    stem = path.rsplit('.', 1)[0]
    return stem[:-4] if stem.endswith('_int') else stem


bad = []
folders = sorted(d for d in os.listdir(src) if os.path.isdir(os.path.join(src, d)))
for d in folders:
    if d not in allowed:
        bad.append(f'src/{d}/: not in the layer table of ARCHITECTURE.md')
edges = {}  # module (path without extension) -> modules whose headers it includes
for d in folders:
    for f in sorted(os.listdir(os.path.join(src, d))):
        if not f.endswith(('.c', '.h')):
            continue
        mod = module_of(f'{d}/{f}')
        edges.setdefault(mod, set())
        for n, line in enumerate(open(os.path.join(src, d, f), encoding='utf-8'), 1):
            m = re.match(r'\s*#\s*include\s+"([^"]+)"', line)
            if not m:
                continue
            inc = m.group(1)
            if inc == 'build_info.h':
                continue
            if '/' not in inc or not os.path.exists(os.path.join(src, inc)):
                bad.append(f'src/{d}/{f}:{n}: include "{inc}" is not a src/<folder>/ header')
                continue
            to = inc.split('/')[0]
            if to != d and to not in allowed.get(d, set()):
                bad.append(f'src/{d}/{f}:{n}: {d}/ may not include {inc} (a higher or sibling layer)')
            target = module_of(inc)
            if target != mod:
                edges[mod].add(target)

# Circles between modules: strongly connected components of more than one module (Tarjan).
index, low, on, stack, comps, counter = {}, {}, set(), [], [], [0]
sys.setrecursionlimit(10000)


def visit(v):
    index[v] = low[v] = counter[0]
    counter[0] += 1
    stack.append(v)
    on.add(v)
    for w in sorted(edges.get(v, ())):
        if w not in index:
            visit(w)
            low[v] = min(low[v], low[w])
        elif w in on:
            low[v] = min(low[v], index[w])
    if low[v] == index[v]:
        comp = []
        while True:
            w = stack.pop()
            on.discard(w)
            comp.append(w)
            if w == v:
                break
        if len(comp) > 1:
            comps.append(sorted(comp))


for v in sorted(edges):
    if v not in index:
        visit(v)
for c in comps:
    bad.append('include circle: ' + ' <-> '.join(c))
for b in bad:
    print(b)
print(f'layers: {len(folders)} folders, {len(edges)} modules, {len(bad)} violations')
sys.exit(1 if bad else 0)
