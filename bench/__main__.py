"""`make bench`: runs every benchmark module that exists, prints its figures, and writes them to
bench/results/latest.json. Pick some with `python -m bench edge s3 ...`."""

from __future__ import annotations

import importlib
import json
import sys
import time
from pathlib import Path

MODULES = ["edge", "lambda", "s3", "ddb", "apigw", "cfn"]


def main(argv: list[str]) -> int:
    wanted = argv or MODULES
    out: dict[str, object] = {"started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    failed = False
    for name in wanted:
        try:
            module = importlib.import_module(f"bench.{name}_bench")
        except ModuleNotFoundError:
            print(f"== {name}: no benchmark module yet")
            continue
        print(f"== {name}", flush=True)
        try:
            results = module.run()
        except Exception as exc:
            failed = True
            print(f"   failed: {exc!r}")
            continue
        out[name] = results
        lines = (
            module.report(results) if hasattr(module, "report") else [json.dumps(results, indent=1)]
        )
        for line in lines:
            print("   " + line)
    dest = Path(__file__).parent / "results"
    dest.mkdir(exist_ok=True)
    (dest / "latest.json").write_text(json.dumps(out, indent=1))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
