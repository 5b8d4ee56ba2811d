"""Start-up benchmark: Python import + create_app_or_exit (what run.py, gunicorn and the Celery worker call), timed
as whole fresh processes.

(a) the shipped metadata/; (b) a temporary metadata root with N generated registers (default 100), the shipped
menus.yaml and dictionaries beside them. Every run is a new interpreter, so imports, YAML parsing, model and
view building are all counted. Target: median wall time under 3 s for 100 registers (and for the shipped ones).

    .venv/bin/python bench/boot.py [--runs 7] [--registers 100] [--keep DIR] [--no-profile]

create_app touches no database (FAB_CREATE_DB and FAB_UPDATE_PERMS are off), so each run points at an unused
SQLite file: APP_CONFIG=embedded, DATABASE_URL=sqlite:///<tmp>/boot.db.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ROOT / "metadata"
TARGET_SECONDS = 3.0

# The child process: clock starts before the first app import; phases are timed by wrapping the steps that
# create_app calls (module globals of app/__init__.py and AppBuilder.init_app), so app code is not edited.
CHILD = r"""
import json, sys, time
t0 = time.monotonic()
import app as app_pkg
import flask_appbuilder
t1 = time.monotonic()
phases = {}
def timed(name, fn):
    def wrapper(*a, **k):
        s = time.perf_counter()
        try:
            return fn(*a, **k)
        finally:
            phases[name] = phases.get(name, 0.0) + time.perf_counter() - s
    return wrapper
app_pkg.load_registry = timed("load_registry (YAML + checks)", app_pkg.load_registry)
_build = app_pkg.build_models
def build_and_configure(*args, **kwargs):
    models = timed("build_models (tables, classes)", _build)(*args, **kwargs)
    # SQLAlchemy configures every mapper on first use (FAB's first SQLAInterface); done here it is timed apart
    from sqlalchemy.orm import configure_mappers
    timed("configure_mappers (SQLAlchemy)", configure_mappers)()
    return models
app_pkg.build_models = build_and_configure
app_pkg._register_screens = timed("register_views (FAB views, menus)", app_pkg._register_screens)
flask_appbuilder.AppBuilder.init_app = timed("AppBuilder.init_app (FAB core)", flask_appbuilder.AppBuilder.init_app)
flask_app = app_pkg.create_app_or_exit()  # what run.py, gunicorn and the worker call
t2 = time.monotonic()
views = len(flask_app.appbuilder.baseviews)
print(json.dumps({"t0": t0, "t2": t2, "import": t1 - t0, "create_app": t2 - t1, "phases": phases, "views": views,
                  "registers": len(flask_app.extensions["safety"].registry.registers)}))
"""

PROFILE_CHILD = r"""
import cProfile, io, pstats, sys
import app as app_pkg
prof = cProfile.Profile()
prof.enable()
app_pkg.create_app_or_exit()
prof.disable()
for key, title in (("cumulative", "cumulative"), ("tottime", "own time")):
    out = io.StringIO()
    stats = pstats.Stats(prof, stream=out)
    stats.sort_stats(key).print_stats(int(sys.argv[1]))
    text = out.getvalue()
    start = text.find("   ncalls")
    print(f"--- cProfile of create_app, top {sys.argv[1]} by {title} ---")
    print(text[start:].rstrip())
    print()
# own time grouped by package
by_pkg = {}
for (file, line, func), (cc, nc, tt, ct, callers) in pstats.Stats(prof).stats.items():
    if "site-packages/" in file:
        pkg = file.split("site-packages/", 1)[1].split("/", 1)[0]
    elif "/work/" in file and "/app/" in file:
        pkg = "app (this project)"
    elif file.startswith("~") or file.startswith("<"):
        pkg = "builtins / C"
    else:
        pkg = "stdlib"
    by_pkg[pkg] = by_pkg.get(pkg, 0.0) + tt
total = sum(by_pkg.values())
print("--- create_app own time by package (cProfile, inflated by profiling) ---")
for pkg, tt in sorted(by_pkg.items(), key=lambda kv: -kv[1])[:12]:
    print(f"  {tt * 1000:8.0f} ms  {tt / total:5.1%}  {pkg}")
"""

# ---------------------------------------------------------------- generated registers

# shipped dictionaries the generated fields use (checked against metadata/dictionaries at generation time)
ENUM_DICTS = ["department", "enterprise_grade", "enterprise_scale", "enterprise_status", "industry",
              "supervision_type", "validity", "chemical_class", "law_kind", "standard_kind", "ministry"]
TREE_DICTS = ["region", "enterprise_type"]
TOPICS = [("hazard", "隐患", "Hazard"), ("inspection", "检查", "Inspection"), ("licence", "许可", "Licence"),
          ("drill", "演练", "Drill"), ("training", "培训", "Training"), ("accident", "事故", "Accident"),
          ("penalty", "处罚", "Penalty"), ("plan", "预案", "Plan"), ("expert", "专家", "Expert"),
          ("warehouse", "仓库", "Warehouse"), ("vehicle", "车辆", "Vehicle"), ("pipeline", "管道", "Pipeline"),
          ("tank", "储罐", "Tank"), ("mine", "矿井", "Mine"), ("worker", "作业人员", "Worker"),
          ("rectify", "整改", "Rectification"), ("patrol", "巡查", "Patrol"), ("report", "报告", "Report"),
          ("equipment", "设备", "Equipment"), ("source", "危险源", "Hazard source")]


def _label(zh: str, en: str) -> str:
    return "{zh: " + zh + ", en: " + json.dumps(en, ensure_ascii=False) + "}"


def register_yaml(index: int, rng: random.Random, categories: list[str], previous: list[str]) -> tuple[str, str]:
    """One register of about 12 fields of mixed types; every fifth refers to an earlier one."""
    topic, zh, en = TOPICS[index % len(TOPICS)]
    name = f"bench_{topic}_{index:03d}"
    enum_a, enum_b = rng.sample(ENUM_DICTS, 2)
    tree = TREE_DICTS[index % 2]
    fields = [
        ("title", "type: string, length: 200, required: true, validators: [{length: {min: 2}}]", "名称", "Title"),
        ("code", "type: string, length: 40, required: true, unique: true", "编号", "Code"),
        ("kind", f"type: enum, dictionary: {enum_a}, required: true", "类别", "Kind"),
        ("level", f"type: enum, dictionary: {enum_b}", "等级", "Level"),
        ("area", f"type: tree, dictionary: {tree}" + (", select: leaf" if tree == "enterprise_type" else ""),
         "所属", "Area"),
        ("contact", "type: string, length: 50", "联系人", "Contact"),
        ("mobile", "type: string, length: 11, validators: [mobile]", "手机", "Mobile"),
        ("amount", "type: decimal, precision: 14, scale: 2, validators: [{min: 0}]", "金额（万元）", "Amount"),
        ("headcount", "type: integer, validators: [{min: 0}, {max: 100000}]", "人数", "Headcount"),
        ("found_on", "type: date, required: true", "日期", "Date"),
        ("checked_at", "type: datetime", "时间", "Checked at"),
        ("closed", "type: boolean, default: false", "已办结", "Closed"),
        ("notes", "type: text", "备注", "Notes"),
    ]
    if previous and index % 5 == 0:
        fields.append(("owner", f"type: reference, register: {rng.choice(previous)}", "关联", "Related"))
    if index % 7 == 0:
        fields.append(("files", "type: attachment, accept: [pdf, jpg, png], max_size: 20MB", "附件", "Files"))
    lines = [f"# generated by bench/boot.py: register {index} of the start-up benchmark",
             f"name: {name}",
             f"label: {_label(f'{zh}台账{index:03d}', f'{en} register {index}')}",
             f"menu: {{category: {categories[index % len(categories)]}, order: {index}, icon: fa-table}}",
             "title: title",
             "fields:"]
    for fname, spec, fzh, fen in fields:
        lines.append(f"  - {{name: {fname}, label: {_label(fzh, fen)}, {spec}}}")
    names = [f[0] for f in fields]
    stored = [n for n in names if n not in ("files",)]
    lines += ["list:",
              f"  columns: [title, code, kind, level, area, found_on{', owner' if 'owner' in names else ''}]",
              "  sort: [-found_on]",
              "  page_size: 20",
              "search: [title, code, contact]",
              "filters: [kind, level, area, found_on, headcount, closed, title"
              + (", owner" if "owner" in names else "") + "]",
              "form:",
              "  fieldsets:",
              f"    - label: {_label('基本信息', 'Basic information')}",
              "      fields: [title, code, kind, level, area, found_on, checked_at, closed]",
              f"    - label: {_label('其他', 'Other')}",
              f"      fields: [{', '.join(n for n in names if n not in ('title', 'code', 'kind', 'level', 'area', 'found_on', 'checked_at', 'closed'))}]"]
    assert len(stored) >= 12
    return name, "\n".join(lines) + "\n"


def generate_metadata(root: Path, count: int, seed: int = 2024) -> Path:
    """A metadata root: the shipped menus.yaml and dictionaries, plus ``count`` generated registers."""
    import yaml

    meta = root / "metadata"
    (meta / "registers").mkdir(parents=True)
    shutil.copy2(SHIPPED / "menus.yaml", meta / "menus.yaml")
    shutil.copytree(SHIPPED / "dictionaries", meta / "dictionaries")
    shipped_dicts = {p.stem for p in (SHIPPED / "dictionaries").glob("*.yaml")}
    missing = (set(ENUM_DICTS) | set(TREE_DICTS)) - shipped_dicts
    if missing:
        raise SystemExit(f"bench/boot.py uses dictionaries that are no longer shipped: {sorted(missing)}")
    categories = [c["name"] for c in yaml.safe_load((SHIPPED / "menus.yaml").read_text(encoding="utf-8"))["categories"]]
    rng = random.Random(seed)
    names: list[str] = []
    for i in range(count):
        name, text = register_yaml(i, rng, categories, names)
        (meta / "registers" / f"{name}.yaml").write_text(text, encoding="utf-8")
        names.append(name)
    return meta


# ---------------------------------------------------------------- running

def run_child(env: dict[str, str]) -> dict:
    """One fresh interpreter; wall from outside, CPU and peak RSS from the kernel's accounting of the child."""
    # time.monotonic is CLOCK_MONOTONIC, one clock for the whole machine: the child's readings line up with ours
    with tempfile.TemporaryFile(mode="w+") as errors:  # a file, not a pipe: a chatty child cannot block on it
        start = time.monotonic()
        proc = subprocess.Popen([sys.executable, "-c", CHILD], cwd=ROOT, env=env,
                                stdout=subprocess.PIPE, stderr=errors, text=True)
        out = proc.stdout.read()
        _, status, usage = os.wait4(proc.pid, 0)
        end = time.monotonic()
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            errors.seek(0)
            raise SystemExit(f"create_app failed (exit {proc.returncode}):\n{errors.read()[-4000:]}")
    data = json.loads(out.strip().splitlines()[-1])
    data.update(wall=end - start, ready=data["t2"] - start, interpreter=data["t0"] - start,
                exit=end - data["t2"], cpu=usage.ru_utime + usage.ru_stime, rss_mb=usage.ru_maxrss / 1024)
    return data


def spread(values: list[float]) -> str:
    return (f"median {statistics.median(values):6.3f}  min {min(values):6.3f}  max {max(values):6.3f}")


def environment(tmp: Path, metadata: Path | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("METADATA_DIRS", "FLASK_APP", "PYTHONPROFILEIMPORTTIME", "PYTHONDONTWRITEBYTECODE")}
    env.update(APP_CONFIG="embedded", DATABASE_URL=f"sqlite:///{tmp / 'boot.db'}", UPLOAD_FOLDER=str(tmp / "uploads"))
    if metadata is not None:
        env["METADATA_DIRS"] = str(metadata)
    return env


def importtime_summary(env: dict[str, str], top: int) -> None:
    """python -X importtime of import + create_app, self time summed per top-level package."""
    proc = subprocess.run([sys.executable, "-X", "importtime", "-c", "import app; app.create_app()"],
                          cwd=ROOT, env=env, capture_output=True, text=True)
    by_pkg: dict[str, int] = defaultdict(int)
    total = 0
    pattern = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \|(\s*)(\S+)")
    for line in proc.stderr.splitlines():
        m = pattern.match(line)
        if not m:
            continue
        self_us, name = int(m.group(1)), m.group(4)
        by_pkg[name.split(".")[0]] += self_us
        total += self_us
    print(f"--- python -X importtime: {total / 1000:.0f} ms of module execution in all, top {top} packages by own time ---")
    for pkg, us in sorted(by_pkg.items(), key=lambda kv: -kv[1])[:top]:
        print(f"  {us / 1000:8.0f} ms  {us / total:5.1%}  {pkg}")
    print()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=7, help="counted runs per scenario (default 7)")
    parser.add_argument("--warmup", type=int, default=1, help="uncounted runs per scenario first (default 1)")
    parser.add_argument("--registers", type=int, default=100, help="generated registers for (b) (default 100)")
    parser.add_argument("--keep", type=Path, help="write the generated metadata here and keep it")
    parser.add_argument("--no-profile", action="store_true", help="skip the where-the-time-goes section")
    parser.add_argument("--top", type=int, default=15, help="rows of the profiles (default 15)")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="boot-bench-"))
    try:
        work = args.keep or tmp
        if args.keep and (args.keep / "metadata").exists():
            shutil.rmtree(args.keep / "metadata")
        generated = generate_metadata(work, args.registers)
        scenarios = {
            "a": ("shipped metadata/", environment(tmp, None)),
            "b": (f"{args.registers} generated registers", environment(tmp, generated)),
        }
        print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, {args.runs} runs per scenario after "
              f"{args.warmup} warm-up, runs interleaved a b a b ...")
        results: dict[str, list[dict]] = {k: [] for k in scenarios}
        for i in range(args.warmup + args.runs):
            for key, (_, env) in scenarios.items():
                data = run_child(env)
                if i >= args.warmup:
                    results[key].append(data)
        print()
        for key, (title, _) in scenarios.items():
            runs = results[key]
            print(f"({key}) {title}: {runs[0]['registers']} registers, {runs[0]['views']} FAB views")
            print(f"    wall (whole process)  {spread([r['wall'] for r in runs])} s")
            print(f"    cpu (user+sys)        {spread([r['cpu'] for r in runs])} s")
            print(f"    ready (start -> app)  {spread([r['ready'] for r in runs])} s")
            print(f"    interpreter start     {spread([r['interpreter'] for r in runs])} s")
            print(f"    import app            {spread([r['import'] for r in runs])} s")
            print(f"    create_app            {spread([r['create_app'] for r in runs])} s")
            for phase in runs[0]["phases"]:
                print(f"      {phase:34s}{spread([r['phases'][phase] for r in runs])} s")
            print(f"    exit (teardown)       {spread([r['exit'] for r in runs])} s")
            print(f"    peak RSS              {spread([r['rss_mb'] for r in runs])} MB")
        a = statistics.median(r["wall"] for r in results["a"])
        b = statistics.median(r["wall"] for r in results["b"])
        print()
        print(f"each generated register adds about {(b - a) / args.registers * 1000:.1f} ms to start-up "
              f"(median (b) - median (a), over {args.registers})")
        ready = statistics.median(r["ready"] for r in results["b"])
        verdict = "PASS" if a < TARGET_SECONDS and b < TARGET_SECONDS else "FAIL"
        print(f"VERDICT: {verdict} - start-up with {args.registers} registers: whole process median {b:.2f} s "
              f"(min {min(r['wall'] for r in results['b']):.2f}, max {max(r['wall'] for r in results['b']):.2f}; "
              f"app ready after {ready:.2f} s, the rest is interpreter exit); with the shipped metadata {a:.2f} s; "
              f"against the target < {TARGET_SECONDS:.0f} s for both")

        if not args.no_profile:
            print()
            print(f"=== where the time goes in (b), {args.registers} registers ===")
            env_b = scenarios["b"][1]
            importtime_summary(env_b, args.top)
            proc = subprocess.run([sys.executable, "-c", PROFILE_CHILD, str(args.top)], cwd=ROOT, env=env_b,
                                  capture_output=True, text=True)
            if proc.returncode != 0:
                print(proc.stderr[-3000:])
            print(proc.stdout.rstrip())
        return 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
