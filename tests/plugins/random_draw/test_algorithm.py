"""Property tests of the draw algorithm (no database): quotas and avoidance always hold, the same record always
gives the same result; and the offline verifier (a subprocess, as anyone would run it) reproduces a draw and
rejects a tampered one."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from plugins.random_draw import algorithm

ROOT = Path(__file__).resolve().parents[3]
GROUPS = ["a", "b", "c"]


@st.composite
def records(draw):
    """A record with a random pool, quotas within it, officers with avoidance keys and declared conflicts."""
    size = draw(st.integers(1, 60))
    enterprises = [[i, draw(st.sampled_from(GROUPS)), [f"0:{draw(st.integers(0, 3))}"]] for i in range(1, size + 1)]
    per_group = {g: sum(1 for e in enterprises if e[1] == g) for g in GROUPS}
    quotas = {g: draw(st.integers(0, n)) for g, n in per_group.items() if n}
    officers = [[100 + i, draw(st.sampled_from(GROUPS)), [f"0:{draw(st.integers(0, 3))}"]]
                for i in range(draw(st.integers(4, 20)))]
    conflicts = draw(st.lists(st.tuples(st.sampled_from([o[0] for o in officers]),
                                        st.sampled_from([e[0] for e in enterprises])), max_size=10))
    recent = draw(st.lists(st.sampled_from([e[0] for e in enterprises]), max_size=size, unique=True))
    seed = draw(st.binary(min_size=32, max_size=32)).hex()
    return {"seed": seed, "public_value": draw(st.text(max_size=10)), "quotas": quotas,
            "per_enterprise": draw(st.integers(1, 2)), "officers_per_region": False,
            "pool": {"members": enterprises, "recent": recent}, "officers": {"members": officers},
            "conflicts": [list(c) for c in conflicts]}


@settings(max_examples=200, deadline=None)
@given(records())
def test_a_draw_keeps_quotas_and_avoidance_and_is_deterministic(record) -> None:
    try:
        result = algorithm.run(record)
    except algorithm.DrawImpossible as exc:
        assert exc.code == "no_eligible_officer"  # quotas never exceed the pool here
        return
    assert result == algorithm.run(json.loads(json.dumps(record)))  # the same record, the same draw
    enterprises = {e[0]: e for e in record["pool"]["members"]}
    officers = {o[0]: o for o in record["officers"]["members"]}
    chosen = result["enterprises"]
    assert len(chosen) == len(set(chosen))
    for group, quota in record["quotas"].items():
        assert sum(1 for e in chosen if enterprises[e][1] == group) == quota
    recent = set(record["pool"]["recent"])
    for group in record["quotas"]:
        fresh = [e for e in enterprises.values() if e[1] == group and e[0] not in recent]
        if len(fresh) >= record["quotas"][group]:  # never a recent one while fresh ones remain
            assert not [e for e in chosen if enterprises[e][1] == group and e in recent]
            assert group not in result["exhausted"]
    conflicts = {tuple(c) for c in record["conflicts"]}
    for enterprise, group in zip(chosen, result["officers"]):
        assert len(group) == len(set(group)) == record["per_enterprise"]
        for officer in group:
            assert not set(officers[officer][2]) & set(enterprises[enterprise][2])
            assert (officer, enterprise) not in conflicts


def value_of(member: list) -> str:
    """The quota field's value of a test member: two values per group, so a group spans several."""
    return f"{member[1]}-{member[0] % 2}"


def as_version_2(record: dict) -> dict:
    """The same inputs in version 2's encoding (step 6'): ids by group and value, keys of the members only."""
    groups: dict[str, dict[str, list[int]]] = {}
    for member in record["pool"]["members"]:
        groups.setdefault(member[1], {}).setdefault(value_of(member), []).append(member[0])
    encoded = {g: {v: algorithm.encode_ids(ids) for v, ids in values.items()} for g, values in groups.items()}
    keys = {str(m[0]): m[2] for m in record["pool"]["members"]}
    return {**record, "algorithm": algorithm.ALGORITHM,
            "pool": {"groups": encoded, "hash": algorithm.value_hash(encoded), "recent": record["pool"]["recent"]},
            "keys": {"members": keys, "hash": algorithm.value_hash(keys)}}


@settings(max_examples=200, deadline=None)
@given(records())
def test_version_2_draws_as_version_1_on_its_pool_order(record) -> None:
    """Version 2 keeps steps 1-5; only the order of a group's members (by value, then id) and the record's
    encoding change: version 1 given the members in that order draws the same."""
    in_order = {**record, "pool": {**record["pool"],
                                   "members": sorted(record["pool"]["members"], key=lambda m: (value_of(m), m[0]))}}
    try:
        expected = algorithm.run(in_order)
    except algorithm.DrawImpossible as exc:
        with pytest.raises(algorithm.DrawImpossible) as again:
            algorithm.run(as_version_2(record))
        assert again.value.code == exc.code
        return
    assert algorithm.run(as_version_2(record)) == expected


@settings(max_examples=50, deadline=None)
@given(records(), st.binary(min_size=32, max_size=32))
def test_another_seed_is_another_stream(record, other) -> None:
    a = algorithm.Stream(record["seed"], "")
    b = algorithm.Stream(other.hex(), "")
    if record["seed"] != other.hex():
        assert [a.below("x", i, 1 << 30) for i in range(4)] != [b.below("x", i, 1 << 30) for i in range(4)]


def full_record(version: str = algorithm.ALGORITHM_V1) -> dict:
    seed = "11" * 32
    members = [[i, "320411002" if i % 2 else "320411003", [f"0:3204110{i % 3}"]] for i in range(1, 41)]
    officers = [[100 + i, "*", [f"0:3204110{i % 3}"]] for i in range(8)]
    record = {"algorithm": algorithm.ALGORITHM_V1, "number": "SJ-TEST", "seed": seed,
              "commitment": algorithm.commitment(seed), "public_value": "福彩 2026150 期 3D: 123",
              "quotas": {"320411002": 3, "320411003": 2}, "per_enterprise": 2, "officers_per_region": False,
              "pool": {"members": members, "hash": algorithm.members_hash(members), "recent": [1, 3]},
              "officers": {"members": officers, "hash": algorithm.members_hash(officers)},
              "conflicts": [[100, 2]]}
    if version == algorithm.ALGORITHM:
        record = as_version_2(record)
        drawn = set(algorithm.pick(record)[0])  # a kept record holds the keys of the drawn enterprises only
        keys = {i: k for i, k in record["keys"]["members"].items() if int(i) in drawn}
        record["keys"] = {"members": keys, "hash": algorithm.value_hash(keys)}
    record["result"] = algorithm.run(record)
    return record


def verify(tmp_path: Path, record: dict, *extra: str) -> subprocess.CompletedProcess:
    path = tmp_path / "record.json"
    path.write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
    return subprocess.run([sys.executable, "-I", str(ROOT / "scripts" / "verify_draw.py"), str(path), *extra],
                          capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("version", algorithm.VERSIONS)
def test_verify_script_reproduces_a_draw(tmp_path: Path, version: str) -> None:
    record = full_record(version)
    done = verify(tmp_path, record, "--commitment", record["commitment"], "--pool-hash", record["pool"]["hash"])
    assert done.returncode == 0, done.stdout + done.stderr
    assert "OK: the record reproduces its result" in done.stdout
    first = record["result"]["enterprises"][0]
    assert f"enterprise {first}: officers " in done.stdout


def drop_last_member(record: dict) -> None:
    if record["algorithm"] == algorithm.ALGORITHM:
        values = record["pool"]["groups"][sorted(record["pool"]["groups"])[0]]
        value = sorted(values)[0]
        values[value] = values[value].rsplit(",", 1)[0]
    else:
        record["pool"]["members"].pop()


@pytest.mark.parametrize("version", algorithm.VERSIONS)
@pytest.mark.parametrize("tamper", ["pool", "seed", "result", "pool_and_hash", "keys", "order"])
def test_verify_script_rejects_a_tampered_record(tmp_path: Path, tamper: str, version: str) -> None:
    record = full_record(version)
    published = (record["commitment"], record["pool"]["hash"])
    if tamper == "pool":
        drop_last_member(record)
    elif tamper == "seed":
        record["seed"] = "22" * 32
    elif tamper == "result":
        record["result"]["enterprises"][0] = 999
    elif tamper == "keys":  # a drawn enterprise's avoidance keys changed, the result left as it was
        first = record["result"]["enterprises"][0]
        if version == algorithm.ALGORITHM:
            record["keys"]["members"][str(first)] = ["0:32049999"]
        else:
            next(m for m in record["pool"]["members"] if m[0] == first)[2] = ["0:32049999"]
    elif tamper == "order":  # members rearranged (to favour someone) with the hashes and result recomputed
        if version == algorithm.ALGORITHM:
            values = record["pool"]["groups"][sorted(record["pool"]["groups"])[0]]
            value = sorted(values)[0]
            values[value] = ",".join(reversed(values[value].split(",")))
            record["pool"]["hash"] = algorithm.pool_hash(record)
            record["keys"] = as_version_2(full_record())["keys"]
        else:
            record["pool"]["members"].reverse()
            record["pool"]["hash"] = algorithm.pool_hash(record)
        record["result"] = algorithm.run(record)
        published = (record["commitment"], record["pool"]["hash"])  # even with the new hash published
    else:  # pool changed and its hash recomputed: only the published hash can tell
        drop_last_member(record)
        record["pool"]["hash"] = algorithm.pool_hash(record)
        if version == algorithm.ALGORITHM:  # with the keys of whatever the smaller pool draws
            record["keys"] = as_version_2(full_record())["keys"]
        record["result"] = algorithm.run(record)
    done = verify(tmp_path, record, "--commitment", published[0], "--pool-hash", published[1])
    assert done.returncode == 1, done.stdout
    assert "TAMPERED OR INVALID" in done.stdout
