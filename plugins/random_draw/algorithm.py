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

Version 2 (``hmac-sha256-fisher-yates/2``, enterprise draws made since 2026-12) keeps steps 1–5: the same key,
labels and steps. It changes the pool's order within a group (by the quota field's value, then by id, where
version 1 ordered by id alone) and how the record writes the pool down, so that a pool of a million enterprises is
read, hashed and kept in well under a second:

6'. ``pool.groups`` maps each quota group to the values of the quota field found in it (region codes), each to
    its members' ids in ascending order, as decimal numbers joined by commas
    (``{"320411": {"320411002": "3,17,52", "320411003": "8,9"}}``). A group's members, in pool order, are those of
    its values in ascending (string) order, each value's ids in order. The pool hash is SHA-256 of the canonical
    JSON of ``pool.groups``. The avoidance keys are recorded for the drawn enterprises only (``keys``: id → keys,
    hashed like the officers), as step 5 reads no other member's keys. People draws keep version 1's encoding.
"""
from __future__ import annotations

import hashlib
from collections import defaultdict
import hmac
import json
import sys
from typing import Any, Iterable, Sequence

ALGORITHM_V1 = "hmac-sha256-fisher-yates/1"
ALGORITHM = "hmac-sha256-fisher-yates/2"
VERSIONS = (ALGORITHM_V1, ALGORITHM)
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
    return value_hash(list(members))


def value_hash(value: Any) -> str:
    """SHA-256 of the canonical JSON of a value."""
    return hashlib.sha256(canonical(value)).hexdigest()


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
    chosen, _, exhausted = pick_from_groups(stream, _groups(enterprises), quotas, recent, lambda member: member[0])
    return chosen, exhausted


def pick_from_groups(stream: Stream, groups: dict[str, list], quotas: dict[str, int], recent: set[Any],
                     ident: Any = None) -> tuple[list, list[str], list[str]]:
    """Step 4 on members already split by group, each group in pool order (``ident`` gives a member's id; none:
    the members are ids). Each group's list is shuffled in place: it is drawn once. Returns the drawn members,
    the group of each, and the exhausted groups."""
    chosen: list = []
    chosen_groups: list[str] = []
    exhausted: list[str] = []
    for group in sorted(quotas):
        want = quotas[group]
        items = groups.get(group, [])
        if want > len(items):
            raise DrawImpossible("quota_exceeds_pool", {"group": group, "quota": want, "pool": len(items)})
        taken: list = []
        skipped: list = []
        n = len(items)
        i = 0
        while len(taken) < want and i < n:
            j = i + stream.below(f"e:{group}", i, n - i)
            items[i], items[j] = items[j], items[i]
            member_id = items[i] if ident is None else ident(items[i])
            (skipped if member_id in recent else taken).append(items[i])
            i += 1
        if len(taken) < want:
            exhausted.append(group)
            taken += skipped[:want - len(taken)]
        chosen += taken
        chosen_groups += [group] * len(taken)
    return chosen, chosen_groups, exhausted


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


def group_ids(encoded: str) -> list[int]:
    """Step 6': ids from their encoding."""
    return [int(x) for x in encoded.split(",")] if encoded else []


def encode_ids(ids: Iterable[int]) -> str:
    return ",".join(str(i) for i in sorted(ids))


def group_members(values: dict[str, str]) -> list[str]:
    """Step 6': a group's members in pool order, as the decimal strings of their ids (compared as strings in
    step 4: the record holds them so)."""
    members: list[str] = []
    for value in sorted(values):
        if values[value]:
            members += values[value].split(",")
    return members


def pool_hash(record: dict[str, Any]) -> str:
    """The hash of the record's pool, in the record's own version."""
    if _compact(record):
        return value_hash(record["pool"]["groups"])
    return members_hash(record["pool"]["members"])


def pool_size(record: dict[str, Any]) -> int:
    if _compact(record):
        return sum(ids.count(",") + 1 for values in record["pool"]["groups"].values() for ids in values.values()
                   if ids)
    return len(record["pool"]["members"])


def _compact(record: dict[str, Any]) -> bool:
    return record.get("algorithm") == ALGORITHM and record.get("kind") != "people"


def canonical_pool(record: dict[str, Any]) -> bool:
    """Whether the pool is in its version's order: version 1, members by ascending id; version 2, as step 6'
    says (ids ascending within each value, no id twice)."""
    if not _compact(record):
        ids = [int(m[0]) for m in record["pool"]["members"]]
        return all(a < b for a, b in zip(ids, ids[1:]))
    seen: set[int] = set()
    for values in record["pool"]["groups"].values():
        for encoded in values.values():
            ids = group_ids(encoded)
            if any(a >= b for a, b in zip(ids, ids[1:])) or seen.intersection(ids):
                return False
            seen.update(ids)
    return True


def pick(record: dict[str, Any], groups: dict[str, list[str]] | None = None) -> tuple[list[int], list[str], list[str]]:
    """Step 4 on a version 2 record: the drawn ids, the group of each, the exhausted groups. ``groups``: each
    group's members as ``group_members`` gives them, when the caller has them already (they are shuffled)."""
    stream = Stream(record["seed"], record.get("public_value", ""))
    quotas = {str(k): int(v) for k, v in record["quotas"].items()}
    if groups is None:
        groups = {g: group_members(values) for g, values in record["pool"]["groups"].items()}
    recent = {str(i) for i in record["pool"].get("recent", [])}
    chosen, of_group, exhausted = pick_from_groups(stream, groups, quotas, recent)
    return [int(i) for i in chosen], of_group, exhausted


def run(record: dict[str, Any], picked: tuple[list[int], list[str], list[str]] | None = None) -> dict[str, Any]:
    """The result a record's inputs give: {"enterprises": [...], "officers": [[...]], "exhausted": [...]}.
    ``picked``: step 4's outcome on this version 2 record when the caller has it already."""
    if record.get("kind") == "people":
        return run_people(record)
    stream = Stream(record["seed"], record.get("public_value", ""))
    quotas = {str(k): int(v) for k, v in record["quotas"].items()}
    if _compact(record):
        ids, of_group, exhausted = picked or pick(record)  # the stream is stateless: labels and counters
        keys = record.get("keys", {}).get("members", {})
        missing = [i for i in ids if str(i) not in keys]
        if missing:
            raise DrawImpossible("keys_missing", {"enterprises": missing[:10]})
        chosen: list[Sequence[Any]] = [[i, g, keys[str(i)]] for i, g in zip(ids, of_group)]
    else:
        chosen, exhausted = pick_enterprises(stream, record["pool"]["members"], quotas,
                                             set(record["pool"].get("recent", [])))
    officers = assign_officers(stream, chosen, record["officers"]["members"], int(record["per_enterprise"]),
                               bool(record.get("officers_per_region")),
                               {(int(o), int(e)) for o, e in record.get("conflicts", [])})
    return {"enterprises": [m[0] for m in chosen], "officers": officers, "exhausted": exhausted}


def verify(record: dict[str, Any], commitment_published: str | None = None,
           pool_hash_published: str | None = None) -> list[str]:
    """Every way the record differs from what its own inputs give (empty: the record holds)."""
    problems = []
    if record.get("algorithm") not in VERSIONS:
        return [f"algorithm {record.get('algorithm')!r} is none of {', '.join(VERSIONS)}: use that version's "
                "verifier"]
    if commitment(record["seed"]) != record["commitment"]:
        problems.append("the seed does not match its commitment (SHA-256 of the seed): the seed was changed")
    if commitment_published and commitment_published != record["commitment"]:
        problems.append("the commitment differs from the published one")
    if pool_hash(record) != record["pool"]["hash"]:
        problems.append("the pool does not match its hash: the pool was changed")
    elif not canonical_pool(record):
        problems.append("the pool is not in its canonical order (ids ascending, each once): it was rearranged")
    if pool_hash_published and pool_hash_published != record["pool"]["hash"]:
        problems.append("the pool hash differs from the published one")
    if record.get("kind") == "people":
        if members_hash(record["subject"]["keys"]) != record["subject"]["hash"]:
            problems.append("the reviewed subject's avoidance keys do not match their hash: they were changed")
    else:
        if members_hash(record["officers"]["members"]) != record["officers"]["hash"]:
            problems.append("the officers do not match their hash: the officer list was changed")
        if _compact(record) and \
                value_hash(record.get("keys", {}).get("members")) != record.get("keys", {}).get("hash"):
            problems.append("the drawn enterprises' avoidance keys do not match their hash: they were changed")
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
    print(f"draw {record.get('number', '?')} ({record.get('algorithm')}), pool of {pool_size(record)}")
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
