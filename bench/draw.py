"""Benchmark: the random draw of 1,000 enterprises by per-region quotas from a pool of 1,000,000 with 500
officers and avoidance (plugins/random_draw/algorithm.py, the code the app and the verifier run).

    .venv/bin/python bench/draw.py [--pool 1000000] [--runs 5]

What is timed ("draw"): algorithm.run(record) on a prepared record — the pool already read and ordered by id,
each member as [id, quota region, avoidance keys]; it groups the pool by quota region, runs the seeded partial
Fisher–Yates of every region, skips the 5 % drawn recently, shuffles the officers and assigns 2 per enterprise
round-robin, skipping officers of the enterprise's township office (a shared avoidance key) and 2,000 declared
conflicts. Timed apart: hashing the pool (SHA-256 of its canonical JSON, done once when the record is built)
and a full verification (hashes + re-run), what scripts/verify_draw.py does. Not timed: the database query that
reads the pool (the list benchmark, bench/list.py, measures the same scoped, indexed queries).
"""
from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from plugins.random_draw import algorithm  # noqa: E402


def prepared_record(pool: int, regions: int = 100, officers: int = 500) -> dict:
    rng = random.Random(13)
    townships = [f"3204110{i:02d}" for i in range(regions)]
    members = [[i, townships[i % regions], [f"0:{townships[(i * 7) % regions]}"]] for i in range(1, pool + 1)]
    officer_rows = [[2_000_000 + i, "*", [f"0:{rng.choice(townships)}"]] for i in range(officers)]
    seed = "5a" * 32
    return {"algorithm": algorithm.ALGORITHM, "seed": seed, "commitment": algorithm.commitment(seed),
            "public_value": "2026-12-02", "quotas": {t: 1000 // regions for t in townships}, "per_enterprise": 2,
            "officers_per_region": False,
            "pool": {"members": members, "recent": sorted(rng.sample(range(1, pool + 1), pool // 20))},
            "officers": {"members": officer_rows},
            "conflicts": [[2_000_000 + rng.randrange(officers), rng.randrange(1, pool + 1)] for _ in range(2000)]}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pool", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    record = prepared_record(args.pool)
    timings = []
    for _ in range(args.runs):
        started = time.perf_counter()
        result = algorithm.run(record)
        timings.append(time.perf_counter() - started)
    assert len(result["enterprises"]) == 1000 and all(len(o) == 2 for o in result["officers"])
    started = time.perf_counter()
    record["pool"]["hash"] = algorithm.members_hash(record["pool"]["members"])
    record["officers"]["hash"] = algorithm.members_hash(record["officers"]["members"])
    hashing = time.perf_counter() - started
    record["result"] = result
    started = time.perf_counter()
    assert algorithm.verify(record) == []
    verifying = time.perf_counter() - started
    print(f"pool {args.pool:,}, 100 regions x 10, 500 officers, 2 per enterprise, avoidance + 2,000 conflicts, "
          f"5 % recent")
    print(f"draw: median {statistics.median(timings):.3f} s, best {min(timings):.3f} s of {args.runs} "
          f"(target < 1 s)")
    print(f"pool hash (once per record): {hashing:.3f} s; full verification (hashes + re-run): {verifying:.3f} s")


if __name__ == "__main__":
    main()
