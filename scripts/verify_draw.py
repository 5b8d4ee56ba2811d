#!/usr/bin/env python3
"""Re-run a published random draw record offline and say whether it holds (Python standard library only).

    python scripts/verify_draw.py RECORD.json [--commitment HEX] [--pool-hash HEX]

The algorithm is plugins/random_draw/algorithm.py, which the public page (/draws/verify_draw.py) also offers as a
single file: this script runs that file, so there is one implementation. Exit 0: the record reproduces its
result; 1: tampered or invalid (what differs is printed)."""
import runpy
import sys
from pathlib import Path

ALGORITHM = Path(__file__).resolve().parent.parent / "plugins" / "random_draw" / "algorithm.py"

if __name__ == "__main__":
    sys.exit(runpy.run_path(str(ALGORITHM))["main"](sys.argv[1:]))
