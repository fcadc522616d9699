# Per-server round ranges and pairwise ratios of interleaved benchmark rounds
# (scripts/bench-models.sh; scripts/lib/rounds.awk gives the totals).
#
# Input lines: GROUP NAME ROUND RESPONSES SECONDS            (the runs; GROUP is ignored)
#              errors NAME ROUND NON2XX SOCKET_ERRORS        (optional: wrk's error counts)
# Variables:   mode=ranges tools="a b c"
#                  one line per tool: per-round req/s range, non-2xx and socket errors
#              mode=ratio a=NAME b=NAME [target=0.90]
#                  ratio a / b = total req/s ratio (rounds median m, range lo–hi)[; target >= t]
#
# The total ratio is total responses over total time of a, over the same of b; the median and
# range are those of the per-round ratios (both ran in the same round, seconds apart).
$1 == "errors" { non2xx[$2] += $4; sockerr[$2] += $5; next }
NF >= 5 {
    n[$2] += $4; secs[$2] += $5; rounds[$3] = 1
    rps[$2, $3] = $5 > 0 ? $4 / $5 : 0; seen[$2, $3] = 1
}
function sort_median(v, k,   i, j, t) {   # sorts v[1..k] in place, returns the median
    for (i = 2; i <= k; i++) for (j = i; j > 1 && v[j - 1] > v[j]; j--) { t = v[j]; v[j] = v[j - 1]; v[j - 1] = t }
    return k % 2 ? v[(k + 1) / 2] : (v[k / 2] + v[k / 2 + 1]) / 2
}
function total(x) { return secs[x] > 0 ? n[x] / secs[x] : 0 }
END {
    if (mode == "ranges") {
        nt = split(tools, t, " ")
        for (i = 1; i <= nt; i++) {
            k = 0; delete v
            for (r in rounds) if ((t[i], r) in seen) v[++k] = rps[t[i], r]
            if (!k) { printf "  %-20s no rounds\n", t[i]; continue }
            sort_median(v, k)
            printf "  %-20s %10.0f req/s, rounds %.0f–%.0f (%d round%s)", t[i], total(t[i]), v[1], v[k], k, k == 1 ? "" : "s"
            if (non2xx[t[i]] + sockerr[t[i]] > 0)
                printf "; non-2xx responses %d, socket errors %d", non2xx[t[i]], sockerr[t[i]]
            printf "\n"
        }
    } else if (mode == "ratio") {
        k = 0; delete v
        for (r in rounds) if ((a, r) in seen && (b, r) in seen && rps[b, r] > 0) v[++k] = rps[a, r] / rps[b, r]
        if (!k || total(b) == 0) { printf "ratio %s / %s: no rounds with responses from both\n", a, b; exit }
        m = sort_median(v, k)
        printf "ratio %s / %s = %.2f (rounds median %.2f, range %.2f–%.2f)", a, b, total(a) / total(b), m, v[1], v[k]
        if (target != "") printf "; target >= %.2f", target
        printf "\n"
    }
}
