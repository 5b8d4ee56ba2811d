import time, resource
FILES = [("enterprise", f) for f in ["enterprise_messy.xlsx", "enterprise_errors.xlsx", "not_template.xlsx", "wrong_sheet.xlsx",
         "big_50mb.xlsx", "zip_bomb.xlsx", "million_rows.xlsx", "million_rows_nodim.xlsx", "formulas.xlsx", "macro.xlsx",
         "damaged.xlsx", "enterprise.xls", "enterprise.csv", "enterprise_gbk.csv"]] + [("personnel", "personnel.xlsx"),
         ("chemical", "chemicals.xlsx"), ("checklist", "加油站检查清单.xlsx")]

def test_probe(run_import):
    for register, name in FILES:
        t = time.time()
        try:
            r = run_import(register, name)
        except Exception as exc:
            print("\n###", name, "EXC", type(exc).__name__, exc)
            continue
        print("\n###", name, f"{time.time()-t:.2f}s", "rows", r.rows, "ok", r.ok, "sheet", r.sheet, "hdr", r.header_row, "refused", r.refused, "maxrss", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss//1024)
        for p in r.problems[:30]:
            print("   ", p.row, p.title, p.message)
