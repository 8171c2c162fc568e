"""`python -m tuneway.devstack.dashboards [--out DIR]` (make dashboards): regenerates the dashboards."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tuneway.devstack.dashboards.generate import DASHBOARDS_DIR, write


def main() -> int:
    """Writes the dashboards and lists them."""
    parser = argparse.ArgumentParser(prog="python -m tuneway.devstack.dashboards")
    parser.add_argument(
        "--out", type=Path, default=DASHBOARDS_DIR, help="where to write (default: %(default)s)"
    )
    args = parser.parse_args()
    for path in write(args.out):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
