import argparse
import importlib
import pkgutil
import sys
from pathlib import Path

import bench


def available() -> list[str]:
    folder = str(Path(bench.__file__).parent)
    names = (m.name for m in pkgutil.iter_modules([folder]))
    return sorted(n for n in names if not n.startswith("_") and n != "conditions")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=bench.__doc__)
    parser.add_argument("name", nargs="?", help="benchmark to run; none lists them")
    parser.add_argument("rest", nargs=argparse.REMAINDER, help="arguments for the benchmark")
    args = parser.parse_args(argv)
    names = available()
    if not args.name:
        print("Benchmarks:", ", ".join(names) or "none")
        return 0
    if args.name not in names:
        print(f"No benchmark {args.name!r}; there are: {', '.join(names)}", file=sys.stderr)
        return 2
    module = importlib.import_module(f"bench.{args.name}")
    return module.main(args.rest) or 0


if __name__ == "__main__":
    sys.exit(main())
