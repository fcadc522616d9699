# The measured time, in seconds, from wrk's "N requests in 4.00s, 1.2MB read" line (wrk prints
# the unit it likes: us, ms, s, m or h).
/ requests in / {
    v = $4; sub(/,$/, "", v); u = v; gsub(/[0-9.]/, "", u); sub(/[a-z]+$/, "", v)
    print v * (u == "h" ? 3600 : u == "m" ? 60 : u == "ms" ? 0.001 : u == "us" ? 1e-6 : 1)
}
