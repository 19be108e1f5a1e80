#!/usr/bin/python3
"""streetless.py FILE.osm.pbf MAX_M: the numbered OSM objects of FILE that name no street.

Reads the file with pyosmium (Debian's python3-pyosmium: a reader independent of geobatch's) and
prints one line per object with addr:housenumber but neither addr:street nor addr:place:
  id|lat|lon|number|street|dist_m
where lat/lon is the node, or the mean of a way's distinct nodes, number the first of a list
("3;5" -> 3), and street the name of the nearest named highway (not a platform, stop, lamp,
crossing ...: what geobatch imports as a street) within MAX_M metres, empty when none, with its
distance. The nearest street is found by brute force over every named highway segment near
the point (by bounding box), so the check does not share geobatch's grid.
"""
import math
import sys

import osmium

SKIP = {"platform", "bus_stop", "elevator", "street_lamp", "traffic_signals", "crossing",
        "proposed", "services"}


class Reader(osmium.SimpleHandler):
    def __init__(self):
        super().__init__()
        self.addrs = []    # (id, lat, lon, number)
        self.streets = []  # (name, [(lat, lon), ...])

    def numbered(self, tags):
        return ("addr:housenumber" in tags and "addr:street" not in tags
                and "addr:place" not in tags)

    def node(self, n):
        if self.numbered(n.tags) and n.location.valid():
            self.addrs.append(("n%d" % n.id, n.location.lat, n.location.lon,
                               n.tags["addr:housenumber"]))

    def way(self, w):
        pts = [(nd.lat, nd.lon) for nd in w.nodes if nd.location.valid()]
        if not pts:
            return
        hw = w.tags.get("highway")
        if hw and hw not in SKIP and "name" in w.tags:
            self.streets.append((w.tags["name"], pts))
        if self.numbered(w.tags):
            uniq = list(dict.fromkeys(pts))
            lat = sum(p[0] for p in uniq) / len(uniq)
            lon = sum(p[1] for p in uniq) / len(uniq)
            self.addrs.append(("w%d" % w.id, lat, lon, w.tags["addr:housenumber"]))


def seg_dist(lat, lon, a, b):
    kx = 111195.0 * math.cos(math.radians(lat))
    ky = 111195.0
    ax, ay = (a[1] - lon) * kx, (a[0] - lat) * ky
    bx, by = (b[1] - lon) * kx, (b[0] - lat) * ky
    dx, dy = bx - ax, by - ay
    l2 = dx * dx + dy * dy
    t = max(0.0, min(1.0, -(ax * dx + ay * dy) / l2)) if l2 > 0 else 0.0
    return math.hypot(ax + t * dx, ay + t * dy)


def main():
    path, max_m = sys.argv[1], float(sys.argv[2])
    r = Reader()
    r.apply_file(path, locations=True)
    streets = [(name, pts, (min(p[0] for p in pts), min(p[1] for p in pts),
                            max(p[0] for p in pts), max(p[1] for p in pts)))
               for name, pts in r.streets]
    for oid, lat, lon, number in r.addrs:
        best, best_d = "", max_m
        dlat = max_m / 111195.0
        dlon = max_m / (111195.0 * max(0.01, math.cos(math.radians(lat))))
        for name, pts, (la0, lo0, la1, lo1) in streets:
            if lat < la0 - dlat or lat > la1 + dlat or lon < lo0 - dlon or lon > lo1 + dlon:
                continue  # its bounding box is farther than max_m
            segs = zip(pts, pts[1:]) if len(pts) > 1 else [(pts[0], pts[0])]
            for a, b in segs:
                d = seg_dist(lat, lon, a, b)
                if d < best_d:
                    best, best_d = name, d
        number = number.replace(",", ";").split(";")[0].strip()
        print("%s|%.7f|%.7f|%s|%s|%.1f" % (oid, lat, lon, number, best, best_d if best else -1))


main()
