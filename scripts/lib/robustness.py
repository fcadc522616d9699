#!/usr/bin/env python3
"""The arithmetic and the verdicts of scripts/bench-robustness.sh, over the JSON files it
leaves in its results directory (`clab attack --json`, `clab load --json`, scripts/lib/probe.py,
and the VmRSS samples, one kB figure a line). Nothing here measures; every figure comes from
those files, every verdict from a figure and a target given on the command line.

  robustness.py goodput LOAD.json          2xx responses per second of a clab load run
  robustness.py p99 LOAD.json              its p99 in ms (from the intended send in open loop)
  robustness.py slice-ok LOAD.json LIMIT   exit 0 when >= 99.9 % succeeded and p99 <= LIMIT ms
  robustness.py direct DIR FACTOR k=v...   judge one direct overload run (DIR/overload-FACTORx.*)
                                           and write DIR/overload-FACTORx.json
  robustness.py fuzz LOG RC CASES SECS      judge the codec fuzz run's log (cargo test --nocapture)
                                           and write fuzz.json beside it
  robustness.py summary RESULTS MODEL...   print the summary table; exit 1 if any verdict is not pass
  robustness.py rounds RESULTS ROUNDS MODEL...
                                           over RESULTS/round-1 .. round-ROUNDS: per model and check,
                                           the rounds it passed and its ratio in each, and the codec
                                           fuzz (RESULTS/fuzz.json); exit 1 if a check failed in half
                                           of the rounds or more, or the fuzz failed
"""

import json
import math
import os
import sys

OK_SUCCESS = 0.999


def load(path):
    with open(path) as f:
        return json.load(f)


def load_or_empty(path):
    """A report, or {} when the run left none (the tool failed before writing it)."""
    try:
        return load(path)
    except (OSError, json.JSONDecodeError):
        return {}


def ok_count(report):
    """Responses that served the request, as clab attack counts them: < 500, not 408 or 429."""
    return sum(
        n
        for s, n in report.get("status_codes", {}).items()
        if int(s) < 500 and int(s) not in (408, 429)
    )


def requests(report):
    return report.get("responses", 0) + sum(report.get("errors", {}).values())


def p99(report):
    lat = report.get("latency_corrected_ms") or report.get("latency_uncorrected_ms")
    return lat["p99"] if lat else None


def goodput(report):
    two = sum(n for s, n in report.get("status_codes", {}).items() if s.startswith("2"))
    secs = report.get("elapsed_s") or 0
    return two / secs if secs > 0 else 0.0


def rss_samples(path):
    try:
        with open(path) as f:
            return [int(line) for line in f if line.strip().isdigit()]
    except FileNotFoundError:
        return []


def fmt(v, digits=1, unit=""):
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "n/a"
    return f"{v:,.{digits}f}{unit}"


def cmd_direct(d, factor, kv):
    """One direct overload run at FACTOR x the sustainable rate, from its files."""
    targets = {k: float(v) for k, v in kv.items()}
    base = f"{d}/overload-{factor}x"
    files = {
        "load": f"{base}.load.json",
        "probe": f"{base}.probe.json",
        "unloaded_probe": f"{d}/unloaded.probe.json",
        "unloaded_load": f"{d}/unloaded.load.json",
        "sustain": f"{d}/sustain.load.json",
    }
    got = {k: load_or_empty(v) for k, v in files.items()}
    missing = [files[k] for k, v in got.items() if not v]
    if missing:
        with open(f"{base}.json", "w") as f:
            json.dump(
                {
                    "name": f"overload-{factor}x",
                    "verdict": "fail",
                    "reason": "no report in " + ", ".join(os.path.basename(m) for m in missing)
                    + " (see the .err files beside them)",
                    "notes": [],
                    "figures": None,
                    "targets": targets,
                },
                f,
                indent=2,
            )
            f.write("\n")
        return 0
    loadr, probe, unloaded_probe = got["load"], got["probe"], got["unloaded_probe"]
    unloaded_load, sustain = got["unloaded_load"], got["sustain"]
    idle_kb = targets.get("idle_rss_kb", 0)
    samples = rss_samples(f"{base}.rss")
    recovery_ms = targets.get("recovery_ms", -1)
    recovery_ms = None if recovery_ms < 0 else recovery_ms

    floor = targets["p99_floor_ms"]
    unloaded_p99 = unloaded_probe.get("accepted_p99_ms")
    base_p99 = max(unloaded_p99 or 0.0, floor)
    accepted_p99 = probe.get("accepted_p99_ms")
    load_503 = int(loadr.get("status_codes", {}).get("503", 0))
    load_n = requests(loadr)
    probe_503 = probe["shed_503"]
    no_ra = probe["shed_503_without_retry_after"]
    peak_mib = max(samples) / 1024 if samples else None
    offered = loadr["settings"].get("target_rate") or 0
    achieved = loadr.get("throughput", 0)

    failures, notes = [], []
    if load_503 == 0 and probe_503 == 0:
        failures.append(
            f"no 503 at {offered:,.0f} req/s ({factor}x the sustainable "
            f"{goodput(sustain):,.0f}/s): load p99 {fmt(p99(loadr))} ms"
        )
    elif probe_503 == 0:
        failures.append("no probe got a 503, so Retry-After was not seen")
    if no_ra:
        failures.append(f"{no_ra} of {probe_503} 503s without Retry-After")
    if accepted_p99 is None:
        failures.append(f"no probe was accepted (of {probe['probes']})")
    elif accepted_p99 > targets["max_ratio"] * base_p99:
        failures.append(
            f"accepted p99 {accepted_p99:.1f} ms > {targets['max_ratio']:g}x the unloaded "
            f"{base_p99:.2f} ms"
        )
    if peak_mib is None:
        failures.append("no RSS sample")
    elif peak_mib > targets["rss_limit_mib"]:
        failures.append(f"peak RSS {peak_mib:.1f} MiB > {targets['rss_limit_mib']:g} MiB")
    if recovery_ms is None:
        failures.append(
            f"latency not back within {targets['recovery_ratio']:g}x the unloaded p99 "
            f"{targets['recovery_watch_s']:g} s after the load stopped"
        )
    elif recovery_ms > targets["recovery_target_s"] * 1000:
        failures.append(
            f"recovered in {recovery_ms / 1000:.1f} s > {targets['recovery_target_s']:g} s"
        )
    if offered and achieved < 0.9 * offered:
        notes.append(
            f"the client achieved {achieved:,.0f} of the offered {offered:,.0f} req/s "
            f"({100 * achieved / offered:.0f} %)"
        )
    if targets.get("server_exited"):
        failures.append("the server exited during the run")

    result = {
        "name": f"overload-{factor}x",
        "verdict": "fail" if failures else "pass",
        "reason": "; ".join(failures) if failures else "shed with 503 + Retry-After, "
        "accepted p99 within bound, RSS bounded, recovered",
        "notes": notes,
        "figures": {
            "sustainable_rate": goodput(sustain),
            "offered_rate": offered,
            "achieved_rate": achieved,
            "goodput": goodput(loadr),
            "load_requests": load_n,
            "load_503": load_503,
            "load_503_share": load_503 / load_n if load_n else None,
            "load_errors": loadr.get("errors"),
            "load_p99_ms": p99(loadr),
            "unloaded_probe_p99_ms": unloaded_p99,
            "unloaded_load_p99_ms": p99(unloaded_load),
            "probes": probe["probes"],
            "probes_accepted": probe["accepted"],
            "probes_503": probe_503,
            "probes_503_without_retry_after": no_ra,
            "probes_unanswered": probe["unanswered"],
            "accepted_p99_ms": accepted_p99,
            "accepted_p99_ratio": accepted_p99 / base_p99 if accepted_p99 else None,
            "probe_503_p99_ms": probe.get("shed_503_p99_ms"),
            "idle_rss_mib": idle_kb / 1024,
            "peak_rss_mib": peak_mib,
            "rss_samples": len(samples),
            "recovery_ms": recovery_ms,
        },
        "targets": targets,
    }
    with open(f"{base}.json", "w") as f:
        json.dump(result, f, indent=2)
        f.write("\n")
    return 0


def attack_check(path, name):
    """The check NAME of a `clab attack --json` file: (verdict, reason, {figure: value})."""
    try:
        doc = load(path)
    except (FileNotFoundError, json.JSONDecodeError) as e:
        return "missing", f"no result ({e.__class__.__name__})", {}
    for c in doc.get("checks", []):
        if c["name"] == name:
            figs = {f["name"]: f["value"] for f in c["figures"]}
            return c["verdict"], c["reason"], figs
    return "missing", "not in the output", {}


def ms_as_s(v):
    return "n/a" if v is None else f"{v / 1000:.1f} s"


def slow_row(d):
    verdict, reason, f = attack_check(f"{d}/slow.json", "slow")
    if not f:
        return verdict, reason
    still = sum(f.get(f"{k}_still_open") or 0 for k in ("silent", "trickle", "idle"))
    text = (
        f"ok {fmt(f.get('success_rate'), 2)} % of {fmt(f.get('legit_requests'), 0)}; "
        f"p99 {fmt(f.get('attacked_p99'), 1)} ms vs baseline {fmt(f.get('baseline_p99'), 1)} ms "
        f"({fmt(f.get('p99_ratio'), 1, 'x')}); held {fmt(f.get('slow_open_peak'), 0)}, "
        f"{fmt(f.get('slow_connects'), 0)} connects; closed after (max) silent "
        f"{ms_as_s(f.get('silent_closed_after_max'))}, trickle "
        f"{ms_as_s(f.get('trickle_closed_after_max'))}, idle "
        f"{ms_as_s(f.get('idle_closed_after_max'))}; still open {still}"
    )
    peak = rss_samples(f"{d}/slow.rss")
    if peak:
        text += f"; server RSS peak {max(peak) / 1024:.1f} MiB"
    if verdict != "pass":
        text += f"\n  -> {reason}"
    return verdict, text


def attack_overload_row(d):
    verdict, reason, f = attack_check(f"{d}/overload-attack.json", "overload")
    if not f:
        return verdict, reason
    text = (
        f"{fmt(f.get('offered_rate'), 0)} req/s offered (2x the sustainable "
        f"{fmt(f.get('sustainable_rate'), 0)}); probes 503 {fmt(f.get('probes_503'), 0)}/"
        f"{fmt(f.get('probes'), 0)} (without Retry-After "
        f"{fmt(f.get('probes_503_without_retry_after'), 0)}); accepted p99 "
        f"{fmt(f.get('accepted_p99'), 1)} ms vs unloaded {fmt(f.get('unloaded_p99'), 1)} ms; "
        f"recovered {ms_as_s(f.get('recovery'))}"
    )
    if verdict != "pass":
        text += f"\n  -> {reason}"
    return verdict, text


def direct_row(d, factor):
    try:
        r = load(f"{d}/overload-{factor}x.json")
    except FileNotFoundError:
        why = "not run"
        if os.path.exists(f"{d}/direct-skipped.txt"):
            with open(f"{d}/direct-skipped.txt") as f:
                why = f.read().strip()
        return "missing", why
    f = r["figures"]
    if f is None:
        return r["verdict"], r["reason"]
    share = f.get("load_503_share")
    text = (
        f"{fmt(f['offered_rate'], 0)} req/s offered ({factor}x {fmt(f['sustainable_rate'], 0)}), "
        f"achieved {fmt(f['achieved_rate'], 0)}, goodput {fmt(f['goodput'], 0)} 2xx/s; "
        f"503 {fmt(None if share is None else 100 * share, 1)} % of the load; probes 503 "
        f"{f['probes_503']}/{f['probes']} (without Retry-After "
        f"{f['probes_503_without_retry_after']}); accepted p99 {fmt(f['accepted_p99_ms'], 1)} ms "
        f"vs unloaded {fmt(f['unloaded_probe_p99_ms'], 1)} ms "
        f"({fmt(f['accepted_p99_ratio'], 1, 'x')}); RSS peak {fmt(f['peak_rss_mib'], 1)} MiB "
        f"(idle {fmt(f['idle_rss_mib'], 1)}); recovered {ms_as_s(f['recovery_ms'])}"
    )
    for n in r.get("notes", []):
        text += f"\n  note: {n}"
    if r["verdict"] != "pass":
        text += f"\n  -> {r['reason']}"
    return r["verdict"], text


def fuzz_row(results):
    try:
        r = load(f"{results}/fuzz.json")
    except FileNotFoundError:
        return None
    return r["verdict"], r["text"]


def cmd_summary(results, models, factors):
    rows = []
    for m in models:
        d = f"{results}/{m}"
        rows.append((m, "slow", *slow_row(d)))
        rows.append((m, "overload", *attack_overload_row(d)))
        for factor in factors:
            rows.append((m, f"overload-{factor}x", *direct_row(d, factor)))
        if os.path.exists(f"{d}/exited.txt"):
            with open(f"{d}/exited.txt") as f:
                rows.append((m, "server", "fail", "; ".join(f.read().split("\n")).strip("; ")))
    fz = fuzz_row(results) if os.environ.get("SUMMARY_FUZZ", "1") == "1" else None
    if fz:
        rows.append(("clab-http", "codec fuzz", *fz))
    mw = max([len(r[0]) for r in rows] + [5])
    cw = max([len(r[1]) for r in rows] + [5])
    shown_as = {"pass": "pass", "fail": "FAIL"}
    # The grid: one row per model, one column per check, the verdicts.
    checks = []
    for _, check, _, _ in rows:
        if check not in checks and check != "codec fuzz":
            checks.append(check)
    grid = {(m, c): shown_as.get(v, v) for m, c, v, _ in rows}
    widths = [max(len(c), 7) for c in checks]
    print(f"{'model':<{mw}}  " + "  ".join(f"{c:<{w}}" for c, w in zip(checks, widths)))
    for m in models:
        cells = [f"{grid.get((m, c), '-'):<{w}}" for c, w in zip(checks, widths)]
        print(f"{m:<{mw}}  " + "  ".join(cells).rstrip())
    if fz:
        print(f"codec fuzz: {shown_as.get(fz[0], fz[0])}")
    print()
    print(f"{'model':<{mw}}  {'check':<{cw}}  {'verdict':<7}  figures")
    bad = 0
    for m, check, verdict, text in rows:
        shown = shown_as.get(verdict, verdict)
        if verdict != "pass":
            bad += 1
        lines = text.split("\n")
        print(f"{m:<{mw}}  {check:<{cw}}  {shown:<7}  {lines[0]}")
        for line in lines[1:]:
            print(f"{'':<{mw}}  {'':<{cw}}  {'':<7}  {line}")
    print()
    print(f"{len(rows) - bad} of {len(rows)} checks passed")
    return 1 if bad else 0


def row_ratio(d, check):
    """(verdict, the ratio the check is judged by) of CHECK in one round's model DIR."""
    if check == "slow":
        verdict, _, f = attack_check(f"{d}/slow.json", "slow")
        return verdict, f.get("p99_ratio")
    if check == "overload":
        verdict, _, f = attack_check(f"{d}/overload-attack.json", "overload")
        acc, unl = f.get("accepted_p99"), f.get("unloaded_p99")
        return verdict, acc / max(unl, 1.0) if acc is not None and unl is not None else None
    factor = check.removeprefix("overload-").removesuffix("x")
    try:
        r = load(f"{d}/overload-{factor}x.json")
    except FileNotFoundError:
        return "missing", None
    return r["verdict"], (r["figures"] or {}).get("accepted_p99_ratio")


def cmd_rounds(results, rounds, models, factors):
    """The same checks run ROUNDS times, models interleaved within each round: a verdict that
    flips between rounds is the machine's noise, one that fails in every round is the model's."""
    checks = ["slow", "overload"] + [f"overload-{f}x" for f in factors]
    dirs = [f"{results}/round-{r}" for r in range(1, rounds + 1)]
    mw = max(len(m) for m in models + ["model"])
    cw = max(len(c) for c in checks)
    print(
        f"{'model':<{mw}}  {'check':<{cw}}  passed  median  ratio in each round "
        "(p99 against its baseline; targets: slow <= 2x, overload <= 10x, overload-Fx <= 3x)"
    )
    held = total = 0
    for m in models:
        for c in checks:
            got = [row_ratio(f"{d}/{m}", c) for d in dirs]
            if all(v == "missing" for v, _ in got):
                continue  # not among CHECKS
            passed = sum(v == "pass" for v, _ in got)
            ratios = sorted(r for _, r in got if r is not None)
            median = ratios[len(ratios) // 2] if ratios else None
            each = ", ".join(
                f"{fmt(r, 1, 'x')}{'' if v == 'pass' else ' FAIL'}" for v, r in got
            )
            total += 1
            held += passed * 2 > rounds
            print(
                f"{m:<{mw}}  {c:<{cw}}  {passed}/{rounds:<4}  {fmt(median, 1, 'x'):>6}  {each}"
            )
    print()
    print(f"{held} of {total} checks passed in more than half of the {rounds} rounds")
    fz = fuzz_row(results)  # run once, before the rounds
    if fz:
        print(f"codec fuzz: {fz[0]} - {fz[1]}")
    return 0 if held == total and (not fz or fz[0] == "pass") else 1


def cmd_fuzz(log, rc, cases, secs):
    """The fuzz run: inputs each test reported (Timer::report), test results, cargo's exit."""
    import re

    with open(log, errors="replace") as f:
        text = f.read()
    tests = {
        m.group(1): (int(m.group(2)), m.group(3), m.group(4))
        for m in re.finditer(r"^(\w+): (\d+) inputs in (\S+), slowest (\S+)$", text, re.M)
    }
    results = re.findall(r"^test result: (\w+)\. (\d+) passed; (\d+) failed", text, re.M)
    passed = sum(int(p) for _, p, _ in results)
    failed = sum(int(f) for _, _, f in results)
    inputs = sum(n for n, _, _ in tests.values())
    aborted = "no progress for" in text
    failures = []
    if int(rc) != 0:
        failures.append(f"cargo test exited with {rc}")
    if failed:
        failures.append(f"{failed} tests failed (a panic or a violated property)")
    if aborted:
        failures.append("the watchdog saw a hang")
    if inputs < int(cases):
        failures.append(f"{inputs:,} inputs reported < {int(cases):,} asked for")
    each = ", ".join(f"{k} {n:,} ({t}, slowest {s})" for k, (n, t, s) in tests.items())
    text = (
        f"{inputs:,} inputs checked ({each}); {passed} tests passed, {failed} failed; "
        f"panics {'0' if not failed and int(rc) == 0 else 'see the log'}, hangs "
        f"{'1+' if aborted else '0'}; {float(secs):.0f} s wall time of cargo test"
    )
    if failures:
        text += "\n  -> " + "; ".join(failures)
    result = {
        "name": "codec fuzz",
        "verdict": "fail" if failures else "pass",
        "text": text,
        "inputs": inputs,
        "cases_asked": int(cases),
        "tests": {k: {"inputs": n, "time": t, "slowest": s} for k, (n, t, s) in tests.items()},
        "tests_passed": passed,
        "tests_failed": failed,
        "exit_code": int(rc),
        "seconds": float(secs),
    }
    with open(os.path.join(os.path.dirname(log), "fuzz.json"), "w") as f:
        json.dump(result, f, indent=2)
        f.write("\n")
    return 0


def main(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    cmd = argv[1]
    if cmd == "goodput":
        print(f"{goodput(load_or_empty(argv[2])):.1f}")
    elif cmd == "p99":
        v = p99(load_or_empty(argv[2]))
        print("" if v is None else f"{v:.3f}")
    elif cmd == "slice-ok":
        r = load_or_empty(argv[2])
        n, v = requests(r), p99(r)
        ok = n > 0 and ok_count(r) / n >= OK_SUCCESS and v is not None and v <= float(argv[3])
        return 0 if ok else 1
    elif cmd == "direct":
        kv = dict(a.split("=", 1) for a in argv[4:])
        return cmd_direct(argv[2], argv[3], kv)
    elif cmd == "fuzz":
        return cmd_fuzz(*argv[2:6])
    elif cmd == "summary":
        factors = os.environ.get("FACTORS", "2 5").split()
        return cmd_summary(argv[2], argv[3:], factors)
    elif cmd == "rounds":
        factors = os.environ.get("FACTORS", "2 5").split()
        return cmd_rounds(argv[2], int(argv[3]), argv[4:], factors)
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
