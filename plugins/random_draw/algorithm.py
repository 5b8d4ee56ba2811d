"""The random draw algorithm 'hmac-sha256-fisher-yates/1' and its offline verifier (Python standard library only).

This file is the whole algorithm: the app draws with it, the public page offers it, and
``python algorithm.py RECORD.json`` (or ``scripts/verify_draw.py RECORD.json``) re-runs a published record.

Version 1, pinned (a change of any step is a new version string; old records keep verifying with their own):

1. ``commitment = SHA-256(seed)`` — the server makes a 32-byte seed and shows the commitment before drawing;
   the drawing user may add a public value (e.g. a lottery number) that the server cannot know in advance.
2. ``key = HMAC-SHA256(seed, "random-draw/1|" + public_value)``.
3. Random integers are HMAC-SHA256(key, "<label>|<i>|<c>") read as 256-bit big-endian numbers, reduced to
   ``[0, n)`` by rejection sampling (no modulo bias): HMAC as a keyed pseudo-random function in counter mode.
4. Enterprises: the pool (members sorted by id, each with its quota group) is split by group; each group is
   shuffled by a partial Fisher–Yates with label "e:<group>" and the first members are taken, skipping those
   drawn within the recent window; when a group runs out, its skipped members are taken in drawn order and the
   group is reported as exhausted.
5. Officers: each officer group is fully shuffled (label "o:<group>"); for each drawn enterprise, in result
   order, officers are taken round-robin from the group's shuffled list (a cursor per group), skipping any whose
   avoidance keys meet the enterprise's or who declared a conflict with it.
6. Pool hashes: SHA-256 of the canonical JSON (sorted keys, no spaces, UTF-8) of each member list.
7. People draws (record ``"kind": "people"``, e.g. 专家抽取 for a review): the pool members (id, "*", keys) are
   first narrowed to the eligible ones, in pool order: a member whose avoidance keys meet the reviewed subject's
   keys, or whose id is in ``conflicts``, is never eligible. The eligible members are drawn as one enterprise
   group "*" of step 4 (label "e:*", ``count`` wanted, members drawn within the recent window skipped unless the
   group runs out). Enterprise records (no ``kind``) are unchanged by this step.
"""
from __future__ import annotations

import hashlib
from collections import defaultdict
import hmac
import json
import sys
from typing import Any, Iterable, Sequence

ALGORITHM = "hmac-sha256-fisher-yates/1"
_SPACE = 1 << 256


class DrawImpossible(ValueError):
    """The draw cannot be made as asked: ``code`` says why, ``detail`` where."""

    def __init__(self, code: str, detail: dict[str, Any]):
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail


def commitment(seed_hex: str) -> str:
    return hashlib.sha256(bytes.fromhex(seed_hex)).hexdigest()


def canonical(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def members_hash(members: Sequence[Any]) -> str:
    return hashlib.sha256(canonical(list(members))).hexdigest()


class Stream:
    """Unbiased integers from HMAC-SHA256 in counter mode."""

    def __init__(self, seed_hex: str, public_value: str):
        self.key = hmac.new(bytes.fromhex(seed_hex), ("random-draw/1|" + public_value).encode("utf-8"),
                            hashlib.sha256).digest()

    def below(self, label: str, i: int, n: int) -> int:
        limit = _SPACE - _SPACE % n
        c = 0
        while True:
            x = int.from_bytes(hmac.digest(self.key, f"{label}|{i}|{c}".encode("utf-8"), "sha256"), "big")
            if x < limit:
                return x % n
            c += 1


def _groups(members: Iterable[Sequence[Any]]) -> dict[str, list]:
    """Members by group, each group in pool order (groups are strings in a record)."""
    groups: dict[str, list] = defaultdict(list)
    for member in members:
        groups[member[1]].append(member)
    return groups


def pick_enterprises(stream: Stream, enterprises: Sequence[Sequence[Any]], quotas: dict[str, int],
                     recent: set[int]) -> tuple[list[Sequence[Any]], list[str]]:
    """Members (id, group, keys) drawn per group quota; the groups whose recent members had to be taken."""
    groups = _groups(enterprises)
    chosen: list[Sequence[Any]] = []
    exhausted: list[str] = []
    for group in sorted(quotas):
        want = quotas[group]
        items = groups.get(group, [])  # shuffled in place: each group is drawn once
        if want > len(items):
            raise DrawImpossible("quota_exceeds_pool", {"group": group, "quota": want, "pool": len(items)})
        taken: list = []
        skipped: list = []
        n = len(items)
        i = 0
        while len(taken) < want and i < n:
            j = i + stream.below(f"e:{group}", i, n - i)
            items[i], items[j] = items[j], items[i]
            (skipped if items[i][0] in recent else taken).append(items[i])
            i += 1
        if len(taken) < want:
            exhausted.append(group)
            taken += skipped[:want - len(taken)]
        chosen += taken
    return chosen, exhausted


def shuffle(stream: Stream, label: str, items: list) -> list:
    items = list(items)
    for i in range(len(items) - 1):
        j = i + stream.below(label, i, len(items) - i)
        items[i], items[j] = items[j], items[i]
    return items


def assign_officers(stream: Stream, chosen: Sequence[Sequence[Any]], officers: Sequence[Sequence[Any]],
                    per_enterprise: int, per_region: bool, conflicts: set[tuple[int, int]]) -> list[list[int]]:
    """For each drawn enterprise, ``per_enterprise`` officer ids that avoid it (same group when per_region)."""
    by_group = _groups(officers) if per_region else {"*": list(officers)}
    order = {group: shuffle(stream, f"o:{group}", members) for group, members in sorted(by_group.items())}
    cursor = {group: 0 for group in order}
    result = []
    for enterprise in chosen:
        group = enterprise[1] if per_region else "*"
        ring = order.get(group, [])
        keys = set(enterprise[2])
        picked: list[int] = []
        start = cursor.get(group, 0)
        for step in range(len(ring)):
            officer = ring[(start + step) % len(ring)]
            if keys.intersection(officer[2]) or (officer[0], enterprise[0]) in conflicts:
                continue
            picked.append(officer[0])
            if len(picked) == per_enterprise:
                cursor[group] = (start + step + 1) % len(ring)
                break
        if len(picked) < per_enterprise:
            raise DrawImpossible("no_eligible_officer", {"enterprise": enterprise[0], "group": group,
                                                         "wanted": per_enterprise, "found": len(picked)})
        result.append(picked)
    return result


def eligible_people(record: dict[str, Any]) -> list[Sequence[Any]]:
    """Step 7: the pool members a people draw may pick (avoidance applied), in pool order."""
    keys = set(record["subject"]["keys"])
    conflicts = {int(i) for i in record.get("conflicts", [])}
    return [m for m in record["pool"]["members"] if not keys.intersection(m[2]) and int(m[0]) not in conflicts]


def run_people(record: dict[str, Any]) -> dict[str, Any]:
    """The result of a people draw: {"members": [...], "exhausted": [...]}."""
    stream = Stream(record["seed"], record.get("public_value", ""))
    chosen, exhausted = pick_enterprises(stream, eligible_people(record), {"*": int(record["count"])},
                                         set(record["pool"].get("recent", [])))
    return {"members": [m[0] for m in chosen], "exhausted": exhausted}


def run(record: dict[str, Any]) -> dict[str, Any]:
    """The result a record's inputs give: {"enterprises": [...], "officers": [[...]], "exhausted": [...]}."""
    if record.get("kind") == "people":
        return run_people(record)
    stream = Stream(record["seed"], record.get("public_value", ""))
    enterprises = record["pool"]["members"]
    quotas = {str(k): int(v) for k, v in record["quotas"].items()}
    chosen, exhausted = pick_enterprises(stream, enterprises, quotas, set(record["pool"].get("recent", [])))
    officers = assign_officers(stream, chosen, record["officers"]["members"], int(record["per_enterprise"]),
                               bool(record.get("officers_per_region")),
                               {(int(o), int(e)) for o, e in record.get("conflicts", [])})
    return {"enterprises": [m[0] for m in chosen], "officers": officers, "exhausted": exhausted}


def verify(record: dict[str, Any], commitment_published: str | None = None,
           pool_hash_published: str | None = None) -> list[str]:
    """Every way the record differs from what its own inputs give (empty: the record holds)."""
    problems = []
    if record.get("algorithm") != ALGORITHM:
        return [f"algorithm {record.get('algorithm')!r} is not {ALGORITHM!r}: use that version's verifier"]
    if commitment(record["seed"]) != record["commitment"]:
        problems.append("the seed does not match its commitment (SHA-256 of the seed): the seed was changed")
    if commitment_published and commitment_published != record["commitment"]:
        problems.append("the commitment differs from the published one")
    if members_hash(record["pool"]["members"]) != record["pool"]["hash"]:
        problems.append("the pool does not match its hash: the pool was changed")
    if pool_hash_published and pool_hash_published != record["pool"]["hash"]:
        problems.append("the pool hash differs from the published one")
    if record.get("kind") == "people":
        if members_hash(record["subject"]["keys"]) != record["subject"]["hash"]:
            problems.append("the reviewed subject's avoidance keys do not match their hash: they were changed")
    elif members_hash(record["officers"]["members"]) != record["officers"]["hash"]:
        problems.append("the officers do not match their hash: the officer list was changed")
    try:
        again = run(record)
    except DrawImpossible as exc:
        return problems + [f"the inputs cannot give a draw ({exc.code})"]
    if again != record["result"]:
        problems.append("re-running the draw gives another result than the recorded one")
    return problems


def main(argv: list[str]) -> int:
    if not argv or argv[0] in ("-h", "--help"):
        print("usage: verify_draw.py RECORD.json [--commitment HEX] [--pool-hash HEX]")
        return 2
    with open(argv[0], encoding="utf-8") as handle:
        record = json.load(handle)
    options = dict(zip(argv[1::2], argv[2::2]))
    problems = verify(record, options.get("--commitment"), options.get("--pool-hash"))
    result = record.get("result", {})
    print(f"draw {record.get('number', '?')} ({record.get('algorithm')}), pool of {len(record['pool']['members'])}")
    for member in result.get("members", []):
        print(f"  drawn: {member}")
    for enterprise, officers in zip(result.get("enterprises", []), result.get("officers", [])):
        print(f"  enterprise {enterprise}: officers {', '.join(str(o) for o in officers)}")
    for group in result.get("exhausted", []):
        print(f"  group {group}: pool exhausted, members drawn recently were drawn again")
    if problems:
        print("TAMPERED OR INVALID:")
        for problem in problems:
            print(f"  - {problem}")
        return 1
    print("OK: the record reproduces its result")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
