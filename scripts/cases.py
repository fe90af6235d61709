#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
#
# The test cases a kernel log shows results for, one "KIND NAME" line
# each, for the closing table of scripts/check.sh, which counts the
# unique cases of each kind beside their executions.
#
#   cases.py ktap LOG   KUnit's KTAP (kind kunit): every leaf result (a
#                       case, or a parameter of a parameterised case),
#                       named by the subtests it is in
#   cases.py tap LOG    the userspace tests' kselftest TAP that /init
#                       copies into the log (BPR-UT: lines), named by the
#                       program that printed it ("BPR-VM: run" lines); kind
#                       binder for binder_test, fault for the fault
#                       injection script's passes, user for the others
#
# Skipped cases are left out, as they are from the passed counts.

import re
import sys

STAMP = re.compile(r'^\[ *[0-9]+\.[0-9]+\] ')
RESULT = re.compile(r'^( *)(not )?ok [0-9]+ (.*?)(?: # (SKIP|TODO)\b.*)?$')
SUBTEST = re.compile(r'^( *)# Subtest: (.*)$')


def ktap(lines):
    """Leaf results: a result line that no deeper result line precedes."""
    subtest = {}
    last_indent = -1
    for line in lines:
        line = STAMP.sub('', line.rstrip('\n'))
        m = SUBTEST.match(line)
        if m:
            subtest[len(m.group(1))] = m.group(2)
            continue
        m = RESULT.match(line)
        if not m:
            continue
        indent = len(m.group(1))
        if last_indent <= indent and m.group(4) != 'SKIP':
            path = [subtest[i] for i in sorted(subtest) if i <= indent]
            yield 'kunit', '.'.join(path + [m.group(3)])
        last_indent = indent
        # A result closes the subtests nested deeper than itself.
        for i in [i for i in subtest if i > indent]:
            del subtest[i]


def tap(lines):
    prog = '?'
    for line in lines:
        line = STAMP.sub('', line.rstrip('\n'))
        m = re.match(r'^BPR-VM: run (.*)$', line)
        if m:
            prog = m.group(1).rsplit('/', 1)[-1]
            continue
        if not line.startswith('BPR-UT: '):
            continue
        m = RESULT.match(line[len('BPR-UT: '):])
        if m and not m.group(1) and m.group(4) != 'SKIP':
            if prog.startswith('binder'):
                kind = 'binder'
            elif prog.startswith('fault'):
                kind = 'fault'
            else:
                kind = 'user'
            yield kind, f'{prog}:{m.group(3)}'


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ('ktap', 'tap'):
        sys.exit('usage: cases.py ktap|tap LOG')
    with open(sys.argv[2], errors='replace') as f:
        for kind, name in globals()[sys.argv[1]](f):
            print(kind, name)


if __name__ == '__main__':
    main()
