#!/usr/bin/env python3
"""CPU seconds per thread (grouped by name, digits folded) of one Java process, sampled from /proc until it exits.

usage: thread-cpu.py PATTERN   waits for a `java` process whose command line contains PATTERN, then prints
                               the CPU (user + system) of each thread group, largest first, and the total.
"""
import collections
import os
import re
import sys
import time


def find(pattern):
    for _ in range(1200):
        for pid in filter(str.isdigit, os.listdir('/proc')):
            try:
                cmd = open(f'/proc/{pid}/cmdline', 'rb').read().decode(errors='replace')
            except OSError:
                continue
            if pattern in cmd and cmd.startswith('java') and 'thread-cpu.py' not in cmd:
                return pid
        time.sleep(0.05)
    sys.exit(f'no java process with {pattern!r} in its command line')


def main():
    pid = find(sys.argv[1])
    ticks = os.sysconf('SC_CLK_TCK')
    last = {}
    # A thread's counters are read until it or the process ends; the last reading counts.
    while os.path.exists(f'/proc/{pid}'):
        try:
            tids = os.listdir(f'/proc/{pid}/task')
        except OSError:
            break
        for tid in tids:
            try:
                stat = open(f'/proc/{pid}/task/{tid}/stat').read()
            except OSError:
                continue
            name = stat[stat.index('(') + 1:stat.rindex(')')]
            fields = stat[stat.rindex(')') + 2:].split()
            last[tid] = (name, int(fields[11]) + int(fields[12]))
        time.sleep(0.2)
    groups = collections.Counter()
    for name, t in last.values():
        groups[re.sub(r'\d+', 'N', name)] += t / ticks
    for name, seconds in groups.most_common(14):
        print(f'{seconds:6.2f} {name}')
    print(f'{sum(groups.values()):6.2f} total')


if __name__ == '__main__':
    main()
