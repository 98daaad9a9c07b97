"""Print how long each chapter took in the last book build (from myst-nb's cache).

Usage: ``python scripts/execution_times.py [_build]`` (``make book`` runs it).
"""

from __future__ import annotations

import sys
from pathlib import Path


def main(build: str = "_build") -> int:
    from jupyter_cache import get_cache

    path = Path(build) / ".jupyter_cache"
    if not path.exists():
        print(f"no execution cache under {path}")
        return 0
    latest = {}
    for record in get_cache(path).list_cache_records():
        if record.uri not in latest or record.created > latest[record.uri].created:
            latest[record.uri] = record
    rows = [
        (Path(uri).stem, (rec.data or {}).get("execution_seconds"))
        for uri, rec in latest.items()
    ]
    rows.sort(key=lambda r: -(r[1] or 0))
    print("Chapter execution times (seconds, last execution of each):")
    for name, seconds in rows:
        shown = f"{seconds:7.1f}" if seconds is not None else "      ?"
        print(f"  {shown}  {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
