"""`python -m creditgov.worker`: the worker without the whole command line.

Why a second entry point: a service manager restarts the worker often and the full
`creditgov` command imports every domain (the evaluation engines among them); this
one imports only what the worker runs. Same options as `creditgov worker`.
"""

from __future__ import annotations

import argparse
import logging
import sys

from creditgov import bootstrap
from creditgov.alerts.outbox import LEASE_SECONDS
from creditgov.core import schema, settings
from creditgov.worker.loop import Worker


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m creditgov.worker", description=__doc__.splitlines()[0])
    ap.add_argument("--db", help="database URL (default: $CREDITGOV_DB, else ./creditgov.db)")
    ap.add_argument("--tick", type=float, default=0.2)
    ap.add_argument("--no-schedule", action="store_true")
    ap.add_argument("--max-seconds", type=float, default=0)
    ap.add_argument("--lease-seconds", type=float, default=LEASE_SECONDS)
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    bootstrap.wire()
    url = settings.resolve(args.db).db_url
    if not schema.is_initialised(url):
        print(f"database {url} is not initialised: run `creditgov init` first", file=sys.stderr)
        return 2
    w = Worker(url, tick=args.tick, with_schedule=not args.no_schedule, lease_seconds=args.lease_seconds)
    w.handle_signals()
    w.run(max_seconds=args.max_seconds or None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
