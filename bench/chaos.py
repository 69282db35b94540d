"""Recovery figures per fault: the chaos run of tests/chaos at a larger size and a 30 s database
outage, on PostgreSQL + Redis (``--broker rabbitmq``: a RabbitMQ of the run's own, whose fault is a
kill -9 and a restart on its data; or a broker URL). Writes a JSON result.

    python -m bench.chaos [--cases 500] [--rate 50] [--outage 30] [--broker redis|rabbitmq|URL] [--out FILE]

Each fault gets a fresh stack (API, worker supervisor with 2 workers, scheduler); the workers are
paused for 2 s before the fault so that a backlog waits in the broker when it strikes.
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
import time
from pathlib import Path

from tests.chaos.harness import FAULTS, RABBITMQ_FAULTS, chaos
from tests.chaos.stack import ChaosRun
from tests.support import PG_URL


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=500, help="cases (2 events each)")
    parser.add_argument("--rate", type=float, default=50.0, help="events per second, at most")
    parser.add_argument("--outage", type=float, default=30.0, help="seconds the database is away")
    parser.add_argument(
        "--broker", default="redis", help="redis or rabbitmq (a server of the run's own), or a broker URL"
    )
    parser.add_argument("--faults", nargs="*", default=None, help="default: every fault of the broker")
    parser.add_argument("--out", type=Path, default=Path("bench/results/chaos.json"))
    args = parser.parse_args()
    url = PG_URL.rsplit("/", 1)[0] + "/yunshang_chaos"
    faults = args.faults or list(RABBITMQ_FAULTS if args.broker == "rabbitmq" else FAULTS)
    results = []
    for fault in faults:
        if fault in ("redis", "rabbitmq") and fault != args.broker:
            continue  # the broker fault needs the run's own server of that broker
        with tempfile.TemporaryDirectory() as tmp:
            run = ChaosRun(Path(tmp), url, broker=args.broker)
            run.start()
            try:
                outcome = chaos(
                    run, fault, cases=args.cases, rate=args.rate, fault_at=5.0, outage=args.outage
                )
            finally:
                run.stop()
        results.append(outcome.as_json())
        print(json.dumps(outcome.as_json()), flush=True)
    doc = {
        "bench": "chaos",
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {"cpus": 2, "python": platform.python_version()},
        "broker": args.broker if args.broker in ("redis", "rabbitmq") else "url",
        "cases": args.cases,
        "rate": args.rate,
        "outage_s": args.outage,
        "results": results,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(doc, indent=2) + "\n")


if __name__ == "__main__":
    main()
