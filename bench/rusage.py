#!/usr/bin/env python3
"""rusage.py - stand-in for `/usr/bin/time -f '%e %U %S %M' -o FILE` where /usr/bin/time is
missing: run COMMAND with the caller's stdin/stdout/stderr, then write one line
"wall_s user_s sys_s maxrss_kb" to STATS (from wait4, i.e. getrusage of that child) and exit
with the command's status.

    rusage.py STATS COMMAND [ARGS...]
"""
import os
import subprocess
import sys
import time


def main():
    if len(sys.argv) < 3:
        sys.exit("usage: rusage.py STATS COMMAND [ARGS...]")
    t = time.perf_counter()
    p = subprocess.Popen(sys.argv[2:])
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t
    with open(sys.argv[1], "w") as fp:
        fp.write("%.2f %.2f %.2f %d\n" % (wall, ru.ru_utime, ru.ru_stime, ru.ru_maxrss))
    return os.waitstatus_to_exitcode(status)


if __name__ == "__main__":
    sys.exit(main())
