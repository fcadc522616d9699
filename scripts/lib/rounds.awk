# Summarises interleaved benchmark rounds (scripts/bench-load.sh, scripts/bench-serve.sh).
#
# Input lines: GROUP TOOL ROUND RESPONSES SECONDS [CPU_SECONDS RSS_KB]
# Variables:   groups="64 256"  tools="wrk oha clab"  pairs="clab/wrk clab/oha"
#              cpu_pairs="clab/wrk" (optional: CPU per request ratios, needs the CPU column)
#
# Why rounds: on a shared VM the machine's speed drifts by tens of percent from second to
# second, so each tool runs many short times, interleaved. req/s is total responses over total
# time; beside each ratio stand the per-round ratios' median and range.
{
    n[$1, $2] += $4; secs[$1, $2] += $5; rps[$1, $2, $3] = $4 / $5; rounds[$3] = 1
    if (NF >= 7) { cpu[$1, $2] += $6; if ($7 > rss[$1, $2]) rss[$1, $2] = $7; has_cpu = 1 }
}
function sort_median(a, k,   i, j, t) {   # sorts a[1..k] in place, returns the median
    for (i = 2; i <= k; i++) for (j = i; j > 1 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
    return k % 2 ? a[(k + 1) / 2] : (a[k / 2] + a[k / 2 + 1]) / 2
}
function total_rps(g, t) { return n[g, t] / secs[g, t] }
END {
    nt = split(tools, t, " "); ng = split(groups, gs, " "); np = split(pairs, ps, " ")
    nc = split(cpu_pairs, cs, " ")
    for (gi = 1; gi <= ng; gi++) {
        g = gs[gi]
        if (has_cpu) printf "\n%-12s %-10s %12s %14s %10s\n", "tool", "group", "req/s", "CPU us/req", "RSS MiB"
        else printf "\n%-12s %-10s %12s\n", "tool", "group", "req/s"
        for (i = 1; i <= nt; i++) {
            if (has_cpu) printf "%-12s %-10s %12.0f %14.2f %10.1f\n", t[i], g, total_rps(g, t[i]),
                cpu[g, t[i]] * 1e6 / n[g, t[i]], rss[g, t[i]] / 1024
            else printf "%-12s %-10s %12.0f\n", t[i], g, total_rps(g, t[i])
        }
        for (p = 1; p <= np; p++) {
            split(ps[p], xy, "/"); k = 0; delete a
            for (r in rounds) a[++k] = rps[g, xy[1], r] / rps[g, xy[2], r]
            m = sort_median(a, k)
            printf "  %s: %s req/s %.2f (rounds: median %.2f, %.2f-%.2f)\n", g, ps[p],
                total_rps(g, xy[1]) / total_rps(g, xy[2]), m, a[1], a[k]
        }
        for (p = 1; p <= nc; p++) {
            split(cs[p], xy, "/")
            printf "  %s: %s CPU per request %.2f\n", g, cs[p],
                (cpu[g, xy[1]] / n[g, xy[1]]) / (cpu[g, xy[2]] / n[g, xy[2]])
        }
    }
}
