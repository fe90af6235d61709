#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
#
# Turn the benchmark VM's log into the table, the CSV and the plot's data
# (scripts/bench.sh). Result lines, from the kernel ("prb:") and from
# bench/bpr_bench.c ("bpr:"):
#
#   <workload> <param> <impl> <round> <value> <unit>
#
# Every figure is the median over the rounds, with the spread (min-max). A
# ratio is taken per round, between figures measured in the same round,
# and its median and spread are reported.
#
# With CONVERTED_LOG, the log of the second boot (binder_alloc.c on the page
# range, configs/bench-binder.config), binder's round trips there are
# compared with the first boot's: two boots cannot share rounds, so each
# boot's binder figure is first divided, round by round, by the pipe round
# trip of the same round and size (pipes do not depend on binder's
# allocator), and the medians of those are compared.
#
# With AB_LOGs, short boots of both kernels in turns (scripts/bench.sh,
# named ...ab<pair>-stock.log and ...ab<pair>-converted.log), the two
# binders are compared over all of them instead: the median of every
# round of every boot of one kernel against the other's, and the same
# ratio per pair of boots for the spread. Boots of one kernel differ by up
# to a third, so one boot of each says little. Logs named
# ...icount-stock.log and ...icount-converted.log come from boots under
# QEMU's instruction counting, in which a guest ns is an instruction: the
# two binders' instructions per round trip are compared round by round.
#
# usage: bench-report.py LOG OUTDIR [CONVERTED_LOG [AB_LOG...]]

import re
import statistics
import sys
from collections import defaultdict

LINE = re.compile(r'\b(prb|bpr): (\S+) (\d+) (\S+) (\d+) (\d+) (\S+)\s*$')
FAIL = re.compile(r'\b(?:prb|bpr): FAIL (.*)$')
PR = 'page_range'
SIZES = [8, 128, 4096, 65536, 1048576]
# binder's round trip workloads, and how the report names them.
BINDER_RTTS = (('rtt', ''), ('rtt1', ', one CPU'))


def size_name(n):
    for unit, div in (('MiB', 1 << 20), ('KiB', 1 << 10)):
        if n >= div and n % div == 0:
            return f'{n // div} {unit}'
    return f'{n} B'


def load(path):
    runs = defaultdict(dict)  # (workload, param, impl) -> {round: value}
    units = {}
    fails = []
    with open(path, errors='replace') as f:
        for line in f:
            m = FAIL.search(line)
            if m:
                fails.append(m.group(1))
                continue
            m = LINE.search(line)
            if not m:
                continue
            _, work, param, impl, rnd, value, unit = m.groups()
            key = (work, int(param), impl)
            runs[key][int(rnd)] = int(value)
            units[key] = unit
    return runs, units, fails


def spread(values):
    return statistics.median(values), min(values), max(values)


def ratio(runs, a, b, invert=False):
    """Per-round a/b (b/a if invert) of two keys: (median, min, max) or None."""
    ra, rb = runs.get(a, {}), runs.get(b, {})
    vals = []
    for rnd in sorted(set(ra) & set(rb)):
        num, den = (rb[rnd], ra[rnd]) if invert else (ra[rnd], rb[rnd])
        if den:
            vals.append(num / den)
    return spread(vals) if vals else None


def fmt_ratio(r):
    if r is None:
        return 'n/a'
    return f'{r[0]:.2f} ({r[1]:.2f}-{r[2]:.2f})'


def met(r, op, target):
    if r is None:
        return '?'
    return 'yes' if (r[0] <= target if op == '<=' else r[0] >= target) else 'NO'


def per_pipe(runs, size, work='rtt'):
    """Per-round binder / pipe round trip at @size: a list, maybe empty."""
    b, p = runs.get((work, size, 'binder'), {}), runs.get((work, size, 'pipe'), {})
    return [b[r] / p[r] for r in sorted(set(b) & set(p)) if p[r]]


def cross_boot(runs, runs2, size, work='rtt'):
    """binder_alloc.c on the page range / stock, each against its pipes."""
    a, s = per_pipe(runs2, size, work), per_pipe(runs, size, work)
    if not a or not s:
        return None
    return (statistics.median(a) / statistics.median(s),
            min(a) / max(s), max(a) / min(s))


def load_ab(paths):
    """{pair: {'stock'|'converted': runs}} from the interleaved boots' logs."""
    pairs = defaultdict(dict)
    icount = {}
    fails = []
    for path in paths:
        m = re.search(r'(ab(\d+)|icount)-(stock|converted)\.log$', path)
        if not m:
            sys.exit(f'bench-report: {path}: not an ab<pair>-<kernel>.log '
                     'or icount-<kernel>.log')
        runs, _, f = load(path)
        if not runs:
            sys.exit(f'bench-report: no results in {path}')
        if m.group(2):
            pairs[int(m.group(2))][m.group(3)] = runs
        else:
            icount[m.group(3)] = runs
        fails += [f'{m.group(3)} kernel, {m.group(1)}: {x}' for x in f]
    return pairs, icount, fails


def ab_values(pairs, kernel, work, size, pipe=False):
    """Every round's binder round trip (or binder / pipe) in @kernel's boots."""
    vals = []
    for p in pairs.values():
        runs = p.get(kernel, {})
        if pipe:
            vals += per_pipe(runs, size, work)
        else:
            vals += list(runs.get((work, size, 'binder'), {}).values())
    return vals


def ab_ratio(pairs, work, size, pipe=False):
    """Pooled converted / stock binder_alloc.c, with the per-pair ratios' spread."""
    a = ab_values(pairs, 'converted', work, size, pipe)
    s = ab_values(pairs, 'stock', work, size, pipe)
    if not a or not s:
        return None
    per = []
    for n in pairs:
        pa = ab_values({n: pairs[n]}, 'converted', work, size, pipe)
        ps = ab_values({n: pairs[n]}, 'stock', work, size, pipe)
        if pa and ps:
            per.append(statistics.median(pa) / statistics.median(ps))
    return statistics.median(a) / statistics.median(s), min(per), max(per)


def main():
    log, outdir = sys.argv[1], sys.argv[2]
    runs, units, fails = load(log)
    if not runs:
        sys.exit(f'bench-report: no results in {log}')
    runs2, units2, fails2 = {}, {}, []
    if len(sys.argv) > 3:
        runs2, units2, fails2 = load(sys.argv[3])
        if not runs2:
            sys.exit(f'bench-report: no results in {sys.argv[3]}')
        fails += [f'converted kernel: {f}' for f in fails2]
    ab, icount, fails_ab = load_ab(sys.argv[4:])
    fails += fails_ab

    with open(f'{outdir}/results.csv', 'w') as f:
        f.write('workload,param,impl,unit,median,min,max,rounds\n')
        for key in sorted(runs):
            med, lo, hi = spread(list(runs[key].values()))
            med = f'{med:.1f}'.rstrip('0').rstrip('.')
            f.write(f'{key[0]},{key[1]},{key[2]},{units[key]},'
                    f'{med},{lo},{hi},{len(runs[key])}\n')
        # The second boot's figures, marked with its kernel.
        for key in sorted(runs2):
            med, lo, hi = spread(list(runs2[key].values()))
            med = f'{med:.1f}'.rstrip('0').rstrip('.')
            f.write(f'{key[0]},{key[1]},{key[2]}@converted-kernel,{units2[key]},'
                    f'{med},{lo},{hi},{len(runs2[key])}\n')

    rows = []

    def row(name, r, op, target):
        rows.append((name, fmt_ratio(r), f'{op} {target}', met(r, op, target)))

    pg = 4096
    for size in (128, 4096, 65536, 1048576):
        row(f'warm alloc + free, {size_name(size)} (time, vs binder)',
            ratio(runs, ('warm', size, PR), ('warm', size, 'binder')),
            '<=', 0.9)
    row('cold install, per page (time, vs binder)',
        ratio(runs, ('cold', pg, PR), ('cold', pg, 'binder')), '<=', 0.5)
    floor = ratio(runs, ('cold', pg, 'alloc_page'), ('cold', pg, 'binder'))
    row('shrink, per page (time, vs binder)',
        ratio(runs, ('shrink', pg, PR), ('shrink', pg, 'binder')), '<=', 0.8)
    row('copy 64 KiB chunks into 1 MiB (throughput, vs binder)',
        ratio(runs, ('copy', 65536, PR), ('copy', 65536, 'binder')),
        '>=', 1.0)
    row('copy 64 KiB chunks into 1 MiB (throughput, vs memcpy)',
        ratio(runs, ('copy', 65536, PR), ('copy', 65536, 'memcpy')),
        '>=', 0.9)
    for size in (8, 4096):
        row(f'round trip {size_name(size)} (time, vs binder)',
            ratio(runs, ('rtt', size, PR), ('rtt', size, 'binder')),
            '<=', 0.5)
    for size in (8, 4096):
        row(f'round trip {size_name(size)} (time, vs unix socket)',
            ratio(runs, ('rtt', size, PR), ('rtt', size, 'unix')),
            '<=', 1.0)
    row('round trip 1 MiB (throughput, vs unix socket)',
        ratio(runs, ('rtt', 1 << 20, PR), ('rtt', 1 << 20, 'unix'),
              invert=True), '>=', 2.0)

    if ab:
        for work, where in BINDER_RTTS:
            for size in SIZES:
                if ab_values(ab, 'converted', work, size):
                    row(f'binder round trip {size_name(size)}, binder_alloc.c '
                        f'on the page range{where} (time, vs stock, '
                        f'{len(ab)} boots each)',
                        ab_ratio(ab, work, size), '<=', 1.0)
    elif runs2:
        for size in SIZES:
            row(f'binder round trip {size_name(size)}, binder_alloc.c on the '
                'page range (time, vs stock, per pipe)',
                cross_boot(runs, runs2, size), '<=', 1.0)

    out = []
    w = max(len(r[0]) for r in rows)
    out.append(f'{"workload":<{w}}  {"today: median (spread)":<24} '
               f'{"target":<8} met')
    for name, today, target, ok in rows:
        out.append(f'{name:<{w}}  {today:<24} {target:<8} {ok}')

    # Everything else, as ratios against binder (and figures).
    if floor:
        out.append('')
        out.append('Cold install floor: allocating and zeroing a page alone '
                   f'takes {fmt_ratio(floor)} of binder\'s install time per page.')
    out.append('')
    out.append('Round trips (median ns; ratio page_range / other):')
    for size in SIZES:
        figs = []
        for impl in (PR, 'binder', 'pipe', 'unix'):
            if ('rtt', size, impl) in runs:
                figs.append(f'{impl} {spread(list(runs["rtt", size, impl].values()))[0]:.0f}')
        rb = fmt_ratio(ratio(runs, ('rtt', size, PR), ('rtt', size, 'binder')))
        out.append(f'  {size_name(size):>7}: {", ".join(figs)}; vs binder {rb}')
    for size in SIZES:
        if ('rtt1', size, PR) not in runs:
            continue
        figs = [f'{impl} {spread(list(runs["rtt1", size, impl].values()))[0]:.0f}'
                for impl in (PR, 'binder', 'pipe') if ('rtt1', size, impl) in runs]
        rb = fmt_ratio(ratio(runs, ('rtt1', size, PR), ('rtt1', size, 'binder')))
        out.append(f'  {size_name(size):>7}, one CPU: {", ".join(figs)}; vs binder {rb}')
    for work in ('pairs', 'fanin'):
        params = sorted({k[1] for k in runs if k[0] == work})
        for n in params:
            r = ratio(runs, (work, n, PR), (work, n, 'binder'))
            out.append(f'  {work} {n}: throughput page_range / binder {fmt_ratio(r)}')
    if ('cold', 65536, PR) in runs:
        out.append('  first 64 KiB round trip after reclaim: time page_range / binder '
                   + fmt_ratio(ratio(runs, ('cold', 65536, PR),
                                     ('cold', 65536, 'binder'))))
    out.append('')
    out.append('In-kernel scaling, 4 KiB warm cycles (throughput page_range / binder):')
    for work in ('scale-disjoint', 'scale-shared'):
        params = sorted({k[1] for k in runs if k[0] == work})
        cells = [f'{n}: {fmt_ratio(ratio(runs, (work, n, PR), (work, n, "binder")))}'
                 for n in params]
        out.append(f'  {work}: ' + ', '.join(cells))
    meta = {k[2]: v for k, v in runs.items() if k[0] == 'meta'}
    if meta:
        out.append('')
        out.append('Per-page metadata (bytes): ' + ', '.join(
            f'{impl} {spread(list(v.values()))[0]:.0f}' for impl, v in sorted(meta.items())))
    if runs2:
        out.append('')
        out.append('binder_alloc.c on the page range (second kernel) and stock (first kernel), '
                   'main boots, round trip median ns; the ratio of '
                   'the two binders\' round trips per pipe round trip of the same '
                   'round (median, spread):')
        for work, where in BINDER_RTTS:
            for size in SIZES:
                k = (work, size, 'binder')
                if k not in runs or k not in runs2:
                    continue
                a = spread(list(runs2[k].values()))[0]
                b = spread(list(runs[k].values()))[0]
                pa = spread(list(runs2.get((work, size, 'pipe'), {0: 0}).values()))[0]
                pb = spread(list(runs.get((work, size, 'pipe'), {0: 0}).values()))[0]
                pp = fmt_ratio(cross_boot(runs, runs2, size, work))
                out.append(f'  {size_name(size):>7}{where}: converted {a:.0f}, '
                           f'stock {b:.0f} (raw {a / b:.2f}); '
                           f'pipes {pa:.0f} and {pb:.0f}; per pipe {pp}')
    if ab:
        out.append('')
        out.append(f'binder_alloc.c on the page range and stock, {len(ab)} boots '
                   'of each kernel in turns, every round pooled: median ns, ratio '
                   '(spread over the pairs of boots); the same per pipe round trip:')
        for work, where in BINDER_RTTS:
            for size in SIZES:
                a = ab_values(ab, 'converted', work, size)
                s = ab_values(ab, 'stock', work, size)
                if not a or not s:
                    continue
                out.append(f'  {size_name(size):>7}{where}: converted '
                           f'{statistics.median(a):.0f}, stock '
                           f'{statistics.median(s):.0f}: '
                           f'{fmt_ratio(ab_ratio(ab, work, size))}; per pipe '
                           f'{fmt_ratio(ab_ratio(ab, work, size, pipe=True))}')
    if len(icount) == 2:
        out.append('')
        out.append('binder_alloc.c on the page range and stock under instruction '
                   'counting, one boot each: instructions per round trip (median), '
                   'ratio (spread over the rounds):')
        for work, where in BINDER_RTTS:
            for size in SIZES:
                k = (work, size, 'binder')
                a, s = icount['converted'].get(k), icount['stock'].get(k)
                if not a or not s:
                    continue
                q = [a[r] / s[r] for r in sorted(set(a) & set(s)) if s[r]]
                if not q:
                    continue
                # Four places: the differences are a few in a thousand.
                med, lo, hi = spread(q)
                out.append(f'  {size_name(size):>7}{where}: converted '
                           f'{statistics.median(a.values()):.0f}, stock '
                           f'{statistics.median(s.values()):.0f}: '
                           f'{med:.4f} ({lo:.4f}-{hi:.4f})')
    rounds = max(len(v) for v in runs.values())
    out.append('')
    out.append(f'{rounds} rounds; every figure is the median over the rounds, '
               'spread min-max in brackets.')
    if fails:
        out.append('FAILURES: ' + '; '.join(fails))

    with open(f'{outdir}/results.txt', 'w') as f:
        f.write('\n'.join(out) + '\n')

    # The plot's data and script.
    with open(f'{outdir}/rtt.dat', 'w') as f:
        f.write('# size page_range binder pipe unix (median ns)\n')
        for size in SIZES:
            vals = [spread(list(runs[('rtt', size, impl)].values()))[0]
                    if ('rtt', size, impl) in runs else float('nan')
                    for impl in (PR, 'binder', 'pipe', 'unix')]
            f.write(f'{size} ' + ' '.join(f'{v:g}' for v in vals) + '\n')
    with open(f'{outdir}/ratios.dat', 'w') as f:
        f.write('# label median min max\n')
        for name, key, other, inv in (
                ('warm 128B', 128, None, False), ('warm 4K', 4096, None, False),
                ('warm 64K', 65536, None, False), ('warm 1M', 1 << 20, None, False)):
            r = ratio(runs, ('warm', key, PR), ('warm', key, 'binder'))
            if r:
                f.write(f'"{name}" {r[0]:g} {r[1]:g} {r[2]:g}\n')
        if floor:
            f.write(f'"cold floor" {floor[0]:g} {floor[1]:g} {floor[2]:g}\n')
        for name, work, param, inv in (('cold/page', 'cold', 4096, False),
                                       ('shrink/page', 'shrink', 4096, False),
                                       ('copy (1/x)', 'copy', 65536, True)):
            r = ratio(runs, (work, param, PR), (work, param, 'binder'), invert=inv)
            if r:
                f.write(f'"{name}" {r[0]:g} {r[1]:g} {r[2]:g}\n')
    with open(f'{outdir}/bench.gp', 'w') as f:
        f.write('''set terminal pngcairo size 1200,500 font ",10" noenhanced
set output "bench.png"
set multiplot layout 1,2
set title "Round trip (request + reply) against message size"
set logscale xy
set xrange [4:2e6]
set xlabel "bytes"
set ylabel "ns (median), QEMU TCG"
set key top left
plot "rtt.dat" using 1:2 with linespoints title "page_range", \\
     "" using 1:3 with linespoints title "binder", \\
     "" using 1:4 with linespoints title "pipe", \\
     "" using 1:5 with linespoints title "unix socket"
unset logscale
set autoscale x
set title "In-kernel: page_range time / binder_alloc time (lower is better)"
set style data histogram
set style fill solid 0.6
set boxwidth 0.7
set xlabel ""
set ylabel "ratio (median, min-max)"
set yrange [0:*]
set xtics rotate by -30
set key off
plot "ratios.dat" using 0:2:xtic(1) with boxes, \\
     "" using 0:2:3:4 with yerrorbars lc rgb "black", \\
     1 with lines dt 2 lc rgb "gray"
unset multiplot
''')
    print('\n'.join(out))
    if fails:
        sys.exit(1)


if __name__ == '__main__':
    main()
