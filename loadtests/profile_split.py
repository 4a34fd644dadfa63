#!/usr/bin/env python3
"""Splits `perf script -F comm,tid,ip,sym,dso` output (recorded with call
graphs) of a Kruimel process into the parts of ingest, for profile.sh.

Each sample goes to its thread (request workers, the aggregator, others)
and, within it, to the part named by the innermost frame of the call chain
that belongs to a known part: the allocator when the sample is inside it,
else walking from the leaf to the root past generic code (hashbrown, core,
alloc, std, kernel) to the first frame that names a part.
"""
import collections
import re
import sys

# (part, pattern) in order; the first frame from the leaf that matches any
# pattern decides. Generic frames match none and are walked past.
REQUEST_PARTS = [
    ("url cleaning and referrer (privacy::url, url crate)", r"kruimel::privacy::url|^url::|<url::|idna::|form_urlencoded"),
    ("user agent (enrich::agent)", r"kruimel::enrich::agent|woothee|regex"),
    ("hashing (BLAKE3, privacy::visitor)", r"blake3|kruimel::privacy::(visitor|hash|salt)"),
    ("country (enrich::country)", r"kruimel::enrich::country|maxminddb"),
    ("json parse (serde_json)", r"serde_json|kruimel::ingest::beacon"),
    ("ingest pipeline, rest (ingest, enrich, privacy)", r"kruimel::(ingest|enrich|privacy)"),
    ("hand-off to the aggregator (queue)", r"crossbeam|kruimel::aggregate"),
    ("kruimel http edge (routing, limits, metrics)", r"kruimel::|prometheus"),
    ("hyper", r"hyper::|<hyper|httparse|http_body"),
    ("tokio / mio", r"tokio::|<tokio|mio::|<mio"),
]
AGGREGATOR_PARTS = [
    ("flush: redb", r"redb::|<redb::"),
    ("flush: store glue (store::embedded)", r"kruimel::store::embedded"),
    ("redis client (redis crate: commands, replies)", r"^redis::|<redis::|combine::"),
    ("flush: store::redis (apply.lua arguments)", r"kruimel::store::redis"),
    ("shared sessions: visits.lua and credits.lua jobs", r"kruimel::aggregate::shared|kruimel::sessions::shared"),
    ("flush: building the batch (deltas drain/encode)", r"kruimel::aggregate::deltas::.*(drain|batch|encode|flush)|kruimel::aggregate::.*flush|kruimel::aggregate::rollup|kruimel::aggregate::stored_bytes"),
    ("sessions and credits", r"kruimel::sessions|kruimel::aggregate::credit_memo"),
    ("scopes", r"kruimel::aggregate::scopes"),
    ("deltas (counter updates)", r"kruimel::aggregate::deltas"),
    ("distinct-value cap", r"kruimel::aggregate::distinct"),
    ("realtime", r"kruimel::aggregate::realtime"),
    ("queue receive", r"crossbeam|std::sync::mpmc|std::sync::mpsc"),
    ("aggregator loop, rest", r"kruimel::"),
]
ALLOCATOR = re.compile(r"^_?mi_|^mi_|mimalloc|^malloc|^free$|^cfree|^realloc|^calloc|__rust_(de|re)?alloc|_int_(malloc|free)")


def samples(stream):
    comm = None
    frames = []
    for line in stream:
        line = line.rstrip("\n")
        if not line.strip():
            if comm is not None:
                yield comm, frames
            comm, frames = None, []
            continue
        if not line.startswith((" ", "\t")):
            if comm is not None:
                yield comm, frames
            comm = line.split()[0] if line.split() else "?"
            frames = []
            continue
        parts = line.strip().split(" ", 1)
        rest = parts[1] if len(parts) > 1 else ""
        m = re.match(r"(.*) \((.*)\)$", rest)
        sym, dso = (m.group(1), m.group(2)) if m else (rest, "")
        sym = re.sub(r"\+0x[0-9a-f]+$", "", sym)
        frames.append((sym, dso))
    if comm is not None:
        yield comm, frames


def thread_of(comm):
    if comm.startswith("kruimel-aggrega"):
        return "aggregator"
    if comm.startswith("redis-server") or comm.startswith("redis"):
        return "redis-server"
    if comm.startswith("tokio-r") or comm.startswith("kruimel"):
        return "request workers"
    return "other: " + comm


def part_of(frames, parts):
    for sym, _dso in frames:
        for name, pattern in parts:
            if re.search(pattern, sym):
                return name
    return "unattributed (std, kernel, libc only)"


def main():
    counts = collections.Counter()
    threads = collections.Counter()
    allocator = collections.Counter()
    kernel = collections.Counter()
    leaves = collections.defaultdict(collections.Counter)
    total = 0
    for comm, frames in samples(sys.stdin):
        thread = thread_of(comm)
        total += 1
        threads[thread] += 1
        if thread == "redis-server":
            continue
        user = [f for f in frames if "kernel" not in f[1]]
        if frames and "kernel" in frames[0][1]:
            kernel[thread] += 1
        if user and ALLOCATOR.search(user[0][0]):
            allocator[thread] += 1
        parts = AGGREGATOR_PARTS if thread == "aggregator" else REQUEST_PARTS
        part = part_of(frames, parts)
        counts[(thread, part)] += 1
        leaves[(thread, part)][frames[0][0] if frames else "?"] += 1
    kruimel = sum(n for t, n in threads.items() if t != "redis-server") or 1
    print(f"samples: {total} ({kruimel} in Kruimel, {threads['redis-server']} in redis-server)")
    print("share of Kruimel's samples by thread and part:")
    for thread in sorted((t for t in threads if t != "redis-server"), key=lambda t: -threads[t]):
        print(f"  {thread:60} {100 * threads[thread] / kruimel:5.1f}%"
              f"   (in the kernel {100 * kernel[thread] / kruimel:4.1f}%, in the allocator {100 * allocator[thread] / kruimel:4.1f}%)")
        for (t, part), n in sorted(counts.items(), key=lambda kv: -kv[1]):
            if t == thread and 100 * n / kruimel >= 0.1:
                top = ", ".join(f"{s[:50]} {100 * c / kruimel:.1f}" for s, c in leaves[(t, part)].most_common(3))
                print(f"    {part:58} {100 * n / kruimel:5.1f}%   leaves: {top}")
    print(f"  allocator, all threads: {100 * sum(allocator.values()) / kruimel:.1f}%")


if __name__ == "__main__":
    main()
