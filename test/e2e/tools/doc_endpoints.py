#!/usr/bin/env python3
"""doc_endpoints.py - every endpoint docs/api.md lists answers 200 on a real server.

usage: doc_endpoints.py --port PORT --auth 'app_id=..&app_code=..' docs/api.md

Reads the endpoint tables of docs/api.md: rows whose first cell holds `METHOD /path[?query]`
(several, comma-separated). Paths of the table under the heading that says "base `/6.2`" get
that prefix; a paragraph starting "Outside `/6.2`" ends it. {id} is a job of the caller's:
a completed one for GET, a fresh submitted one for PUT and DELETE (so cancel, run and delete
all have something to act on). POST uploads two Liechtenstein rows. The synchronous APIs get
a Liechtenstein query each (SYNC); /v1/lookup the id /v1/geocode gave. Every request must answer
200: a documented route that the server does not have (404 "No such resource", 405) fails,
so the documentation cannot list what is not there. Then the metrics: every metric /metrics
gives (its "# TYPE" lines) has a row in the metrics table of docs/api.md, and every row there
is a metric /metrics gives.
"""
import argparse
import re
import sys
import time
import urllib.error
import urllib.request

ROWS = "recId|searchText|country\n1|Städtle 1, 9490 Vaduz|LIE\n2|9490 Vaduz|LIE\n".encode()
PARAMS = "indelim=%7C&outdelim=%7C&outcols=displayLatitude,displayLongitude,matchLevel"
VADUZ = "St%C3%A4dtle%201%2C%209490%20Vaduz"
SYNC = {
    "/6.2/geocode.json": f"searchtext={VADUZ}",
    "/6.2/reversegeocode.json": "prox=47.1395,9.5215&mode=retrieveAddresses",
    "/6.2/search.json": f"searchtext={VADUZ}",
    "/v1/geocode": f"q={VADUZ}",
    "/v1/discover": "q=Vaduz&at=47.14,9.52",
    "/v1/revgeocode": "at=47.1395,9.5215",
    "/v1/autosuggest": "q=St%C3%A4dt&at=47.14,9.52",
    "/6.2/geometry.json": "bbox=47.13,9.51,47.15,9.53",
}


def endpoints(path):
    out, prefix = [], None
    for line in open(path, encoding="utf-8"):
        if "base `/6.2`" in line:
            prefix = "/6.2"
        elif line.startswith("Outside `/6.2`"):
            prefix = ""
        m = re.match(r"^\| ((?:`[A-Z]+ /[^`]*`(?:, )?)+) \|", line)
        if m and prefix is not None:
            for ep in re.findall(r"`([A-Z]+) (/[^`]*)`", m.group(1)):
                out.append((ep[0], prefix + ep[1]))
    return out


def request(base, method, path, auth, body=None):
    sep = "&" if "?" in path else "?"
    req = urllib.request.Request(f"{base}{path}{sep}{auth}", data=body, method=method)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def new_job(base, auth, run):
    action = "&action=run" if run else ""
    code, body = request(base, "POST", f"/6.2/jobs?{PARAMS}{action}", auth, ROWS)
    m = re.search(rb"<RequestId>([A-Za-z0-9]+)</RequestId>", body)
    if code != 200 or not m:
        raise SystemExit(f"doc_endpoints: cannot make a job: {code} {body[:200]!r}")
    return m.group(1).decode()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", required=True)
    ap.add_argument("--auth", required=True)
    ap.add_argument("api_md")
    a = ap.parse_args()
    base = f"http://127.0.0.1:{a.port}"
    eps = endpoints(a.api_md)
    if len(eps) < 10:
        print(f"doc_endpoints: only {len(eps)} endpoints found in {a.api_md}", file=sys.stderr)
        return 1
    done = new_job(base, a.auth, True)
    while b"<Status>completed</Status>" not in request(base, "GET", f"/6.2/jobs/{done}",
                                                      a.auth)[1]:
        time.sleep(0.05)  # polling for the state, not waiting for time
    failed = 0
    for method, path in eps:
        job = done if method == "GET" else new_job(base, a.auth, False)
        p = path.replace("{id}", job)
        if method == "POST":
            p += ("&" if "?" in p else "?") + PARAMS
        if p.split("?")[0] in SYNC:  # its documented query (placeholders) replaced by a real one
            p = p.split("?")[0] + "?" + SYNC[p.split("?")[0]]
        elif p == "/v1/lookup":
            found = request(base, "GET", f"/v1/geocode?{SYNC['/v1/geocode']}", a.auth)[1]
            m = re.search(rb'"id":\s*"([^"]+)"', found)
            p += "?id=" + (m.group(1).decode() if m else "none")
        code, body = request(base, method, p, a.auth, ROWS if method == "POST" else None)
        if code != 200:
            print(f"FAIL {method} {path}: {code} {body[:300]!r}", file=sys.stderr)
            failed = 1
        else:
            print(f"ok {method} {path}")
    # every metric /metrics gives has its row in the metrics table, and no row is left over
    body = request(base, "GET", "/metrics", a.auth)[1].decode()
    served = set(re.findall(r"^# TYPE (\S+) ", body, re.M))
    text = open(a.api_md, encoding="utf-8").read()
    documented = set(re.findall(r"^\| `(geobatch_[a-z_]+)(?:\{[a-z,]*\})?` \|", text, re.M))
    for m in sorted(served - documented):
        print(f"FAIL /metrics gives {m}, which {a.api_md} does not list", file=sys.stderr)
        failed = 1
    for m in sorted(documented - served):
        print(f"FAIL {a.api_md} lists the metric {m}, which /metrics does not give",
              file=sys.stderr)
        failed = 1
    if served and served == documented:
        print(f"ok /metrics: {len(served)} metrics, each documented")
    return failed


if __name__ == "__main__":
    sys.exit(main())
