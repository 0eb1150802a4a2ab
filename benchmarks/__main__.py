"""python -m benchmarks [NAME ...]: run the named benchmarks (default: all), one JSON line each."""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from pathlib import Path

import orjson


def available() -> list[str]:
    here = Path(__file__).parent
    return sorted(
        m.name.removeprefix("bench_") for m in pkgutil.iter_modules([str(here)]) if m.name.startswith("bench_")
    )


def main(argv: list[str] | None = None) -> int:
    names = available()
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("names", nargs="*", choices=names + [[]], help=f"benchmarks to run (default: all of {names})")
    modules = {n: importlib.import_module(f"benchmarks.bench_{n}") for n in names}
    for module in modules.values():
        if hasattr(module, "add_arguments"):
            module.add_arguments(parser)
    args = parser.parse_args(argv)
    results = {}
    for name in args.names or names:
        print(f"== {name} ==", flush=True)
        results[name] = modules[name].run(args)
        print(orjson.dumps(results[name]).decode(), flush=True)
    if len(results) > 1:  # one benchmark: its own flat JSON line is already the last line
        print(orjson.dumps(results).decode())
    return 0


if __name__ == "__main__":
    sys.exit(main())
