#!/usr/bin/env python3
"""ixstat.py - size breakdown of a geobatch index file, read from its header (the layout of
struct ix_header / struct ix_section in src/index/index_format.h; little-endian).

    ixstat.py INDEX          prints one line per section "name<TAB>bytes<TAB>count" and then
                             "addresses<TAB>N", "file<TAB>BYTES", "per_address<TAB>B",
                             "per_address_nostrings<TAB>B", "strings_share<TAB>F",
                             "top_sections<TAB>NAME B/address, ..." (the five largest sections)
Exit 1 if the file is not a geobatch index. Standard library only.
"""
import struct
import sys

SECTIONS = ["STRINGS", "SOURCES", "STREETS", "STREET_HASH", "FUZZY", "ADDRS", "INTERPS", "POINTS",
            "PLACES", "PLACE_HASH", "POSTCODES", "PC_HASH", "ADMINS", "CELLS", "CELL_ADDRS", "COUNTRIES",
            "SCELLS", "SCELL_STREETS"]


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: ixstat.py INDEX")
    with open(sys.argv[1], "rb") as fp:
        head = fp.read(88)
        if len(head) < 88 or head[:8] != b"GBINDEX\0":
            sys.exit("ixstat.py: not a geobatch index: " + sys.argv[1])
        endian, fmt, normv, nsect, fsize = struct.unpack_from("<IIIIQ", head, 8)
        counts = struct.unpack_from("<6Q", head, 32)
        sect = fp.read(24 * nsect)
    if endian != 0x01020304 or len(sect) < 24 * nsect:
        sys.exit("ixstat.py: bad header in " + sys.argv[1])
    total = {}
    for i in range(nsect):
        off, ln, crc, cnt = struct.unpack_from("<QQII", sect, 24 * i)
        name = SECTIONS[i] if i < len(SECTIONS) else "S%d" % i
        total[name] = ln
        print("%s\t%d\t%d" % (name, ln, cnt))
    n = max(1, counts[0])
    strings = total.get("STRINGS", 0)
    print("addresses\t%d" % counts[0])
    print("file\t%d" % fsize)
    print("per_address\t%.1f" % (fsize / n))
    print("per_address_nostrings\t%.1f" % ((fsize - strings) / n))
    print("strings_share\t%.3f" % (strings / max(1, fsize)))
    top = sorted(total.items(), key=lambda kv: -kv[1])[:5]
    print("top_sections\t%s" % ", ".join("%s %.1f" % (k, v / n) for k, v in top))


if __name__ == "__main__":
    main()
