#!/usr/bin/env python3
"""sync_paths.py SHARED_DIR KEY OUT_DIR: request paths for the synchronous APIs under load, from
the dev kit's clean free-text queries (../shared/eval/dev/*/free_clean.txt): OUT_DIR/g62.txt
(/6.2/geocode.json, maxresults=1), v7.txt (/v1/geocode, limit=1) and suggest.txt
(/v1/autosuggest of the street part typed so far: 3, 6 and 9 characters, at= the query's area
centre is not known, so at=47.14,9.52). One path per line, for bench/wrk_paths.lua."""
import glob, os, sys, urllib.parse

shared, key, out = sys.argv[1:4]
qs = []
for f in sorted(glob.glob(os.path.join(shared, "eval/dev/*/free_clean.txt"))):
    for line in open(f, encoding="utf-8").read().splitlines()[1:]:
        qs.append(line.split("|")[1])
q = urllib.parse.quote
with open(os.path.join(out, "g62.txt"), "w") as o:
    for t in qs:
        o.write("/6.2/geocode.json?apiKey=%s&maxresults=1&searchtext=%s\n" % (key, q(t)))
with open(os.path.join(out, "v7.txt"), "w") as o:
    for t in qs:
        o.write("/v1/geocode?apiKey=%s&limit=1&q=%s\n" % (key, q(t)))
with open(os.path.join(out, "suggest.txt"), "w") as o:
    for t in qs:
        s = t.split(",")[0]
        for n in (3, 6, 9):
            if len(s) > n:
                o.write("/v1/autosuggest?apiKey=%s&limit=5&at=47.14,9.52&q=%s\n" % (key, q(s[:n])))
print(len(qs))
