"""A/B: the same benchmarks of two checkouts, interleaved in one sitting (round r: A,B; r+1: B,A; …).

Each run is a subprocess with cwd = the checkout, the checkout's ``.venv/bin/python`` (else this
python) and ``PYTHONPATH=<checkout>:<probe>``; the probe is a ``sitecustomize`` that logs where every
process (driver, API, worker processes) imports ``workflows``/``worker``/``bench`` from, so each run
says whether it really ran that checkout's code. Result files the benchmarks write into the checkout
(push.json, events.json) are put back as they were; engine_bench writes to a temporary ``--out``.
PostgreSQL/Redis: ``$YUNSHANG_TEST_PG_URL`` / ``$YUNSHANG_TEST_REDIS_URL`` (``scripts/services.sh``).

    .venv/bin/python -m bench.ab --a /work/ab-base --b /work/main --rounds 3 --out bench/results/ab.json
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

PROBE = r"""
import json, os, sys
class _ABProbe:
    def find_spec(self, name, path=None, target=None):
        if name not in ("workflows", "worker", "bench", "actors", "state_machines"):
            return None
        for finder in [f for f in sys.meta_path if f is not self and hasattr(f, "find_spec")]:
            spec = finder.find_spec(name, path, target)
            if spec is not None:
                line = {"pid": os.getpid(), "argv": " ".join(sys.argv[:2]), "origin": spec.origin}
                with open(os.environ["AB_PROBE_LOG"], "a", encoding="utf-8") as out:
                    out.write(json.dumps(line) + "\n")
                return spec
        return None
if os.environ.get("AB_PROBE_LOG"):
    sys.meta_path.insert(0, _ABProbe())
"""

Extract = Callable[[dict[str, Any]], tuple[dict[str, float], dict[str, Any], bool]]


@dataclass
class Bench:
    name: str
    group: str  # what --only selects
    argv: list[str]  # "{out}" stands for a temporary result file
    written: str  # the result file the bench writes in the checkout ("": "{out}")
    extract: Extract


def _engine_extract(data: dict[str, Any]) -> tuple[dict[str, float], dict[str, Any], bool]:
    run = next(r for r in data["runs"] if r["stack"] == "postgresql+redis" and r["processes"] == 2)
    cpu = run.get("cpu_seconds_saturation", {})
    figures = {k: float(run[k]) for k in ("transitions_per_s", "ratio_to_noop", "own_cpu_ms_per_transition")}
    info = {
        "noop_msgs_per_s": run["noop_msgs_per_s"],
        "other_load_cores": round(cpu.get("other", 0.0) / cpu["wall"], 2) if cpu.get("wall") else None,
        "worker_entry": run.get("worker_entry"),
        "instances": run["saturation"]["instances"],
    }
    return figures, info, bool(run["checks"]["ok"])


def _push_extract(data: dict[str, Any]) -> tuple[dict[str, float], dict[str, Any], bool]:
    stock = data["runs"]["production"]["stock"]
    figures = {
        "licenses_per_s": float(stock["licenses_per_s"]),
        "total_seconds": float(stock["total_seconds"]),
    }
    return figures, {"licenses": stock["licenses"], "accepted_seconds": stock["accepted_seconds"]}, True


def _events_extract(data: dict[str, Any]) -> tuple[dict[str, float], dict[str, Any], bool]:
    runs = data["runs"]["production"]
    figures = {f"{k}.events_per_s": float(runs[k]["events_per_s"]) for k in ("single", "batch_100")}
    info = {f"{k}.{m}": runs[k][m] for k in ("single", "batch_100") for m in ("latency_ms", "failures")}
    return figures, info, runs["single"]["failures"] == 0 and runs["batch_100"]["failures"] == 0


def benches(a: argparse.Namespace) -> list[Bench]:
    engine = ["-m", "bench.engine_bench", "--stacks", "pg", "--processes", "2", "--out", "{out}"]
    engine += ["--instances", str(a.instances)] if a.instances else []
    engine += ["--noop-messages", str(a.noop_messages)] if a.noop_messages else []
    engine += [*shlex.split(a.engine_args), "--batch"]
    push = ["-m", "bench.push_bench", "--stacks", "production", "--phases", "stock", "--stock", str(a.stock)]
    events = ["-m", "bench.events_bench", "--stacks", "production", "--client", "wrk"]
    events += ["--seconds", str(a.events_seconds)] if a.events_seconds else []
    return [
        Bench("engine_msg1", "engine", [*engine, "1"], "", _engine_extract),
        Bench(f"engine_batch{a.batch}", "engine", [*engine, str(a.batch)], "", _engine_extract),
        Bench("push_stock", "push", push, "bench/results/push.json", _push_extract),
        Bench("events", "events", events, "bench/results/events.json", _events_extract),
    ]


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _git(checkout: Path, *args: str) -> str:
    out = subprocess.run(["git", "-C", str(checkout), *args], capture_output=True, text=True, check=False)
    return out.stdout.strip()


def _describe(c: Path) -> dict[str, Any]:
    changed = len(_git(c, "status", "--porcelain").splitlines())
    return {"checkout": str(c), "commit": _git(c, "rev-parse", "--short", "HEAD"), "changed_files": changed}


def _run_process(cmd: list[str], cwd: Path, env: dict[str, str], log: Path, timeout: float) -> int:
    """Run in a new session; on timeout or Ctrl-C stop that process group (the bench and its children)."""
    with log.open("wb") as out:
        proc = subprocess.Popen(
            cmd, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            return proc.wait(timeout)
        except BaseException:
            for sig, grace in ((signal.SIGINT, 60), (signal.SIGTERM, 30), (signal.SIGKILL, 10)):
                try:  # SIGINT first: the bench's finally blocks stop the workers it started
                    os.killpg(proc.pid, sig)
                    proc.wait(grace)
                    break
                except (ProcessLookupError, subprocess.TimeoutExpired):
                    continue
            raise


def _isolation(probe_log: Path, checkout: Path) -> dict[str, Any]:
    lines = [json.loads(x) for x in probe_log.read_text().splitlines()] if probe_log.exists() else []
    origins = {str(x["origin"]) for x in lines if x["origin"]}
    outside = sorted(o for o in origins if not Path(o).resolve().is_relative_to(checkout.resolve()))
    pids = {x["pid"] for x in lines}
    argv = sorted({x["argv"] for x in lines})
    found = {"processes": len(pids), "argv": argv, "origins": sorted(origins), "outside": outside}
    return {"ok": bool(pids) and not outside, **found}


def run_one(bench: Bench, side: str, checkout: Path, rnd: int, a: argparse.Namespace) -> dict[str, Any]:
    tmp = Path(tempfile.mkdtemp(prefix="ab-run-"))
    probe_dir = tmp / "probe"
    probe_dir.mkdir()
    (probe_dir / "sitecustomize.py").write_text(PROBE, encoding="utf-8")
    venv = checkout / ".venv" / "bin" / "python"
    python = str(venv) if venv.exists() else sys.executable
    path = [str(checkout), str(probe_dir), os.environ.get("PYTHONPATH", "")]
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, path)),
        "AB_PROBE_LOG": str(tmp / "probe.log"),
    }
    cmd = [python, *(x.replace("{out}", str(tmp / "out.json")) for x in bench.argv)]
    log = a.logs / f"r{rnd}-{side}-{bench.name}.log"
    written = checkout / bench.written if bench.written else tmp / "out.json"
    saved = written.read_bytes() if bench.written and written.exists() else None
    rec: dict[str, Any] = {"side": side, "round": rnd, "bench": bench.name, "checkout": str(checkout)}
    rec |= {"python": python, "command": shlex.join(cmd[1:]), "log": str(log), "start": _now()}
    rec["loadavg_start"] = [round(x, 2) for x in os.getloadavg()]
    print(f"[{time.strftime('%H:%M:%S')}] round {rnd} {side} {bench.name} …", file=sys.stderr, flush=True)
    t0, since = time.monotonic(), time.time()
    try:
        rec["returncode"] = _run_process(cmd, checkout, env, log, a.timeout)
        if not written.exists() or written.stat().st_mtime < since:
            tail = "\n".join(log.read_text(errors="replace").splitlines()[-15:])
            raise RuntimeError(f"{written} was not written; log tail:\n{tail}")
        data = json.loads(written.read_bytes())
        figures, info, ok = bench.extract(data)
        m = data.get("machine", {})
        rec |= {"figures": figures, "info": info, "checks_ok": ok}
        keys = ("git_commit", "git_dirty", "load_avg_at_start")
        rec["bench_machine"] = {k: m.get(k) for k in keys} | {"load_avg_at_end": data.get("load_avg_at_end")}
    except Exception as exc:
        rec |= {"figures": {}, "error": f"{exc.__class__.__name__}: {exc}"}
    finally:
        if bench.written:
            _put_back(written, saved, since)
        rec |= {"end": _now(), "seconds": round(time.monotonic() - t0, 1)}
        rec["loadavg_end"] = [round(x, 2) for x in os.getloadavg()]
        rec["isolation"] = _isolation(tmp / "probe.log", checkout)
        shutil.rmtree(tmp, ignore_errors=True)
    rec["ok"] = bool(rec.get("checks_ok")) and rec.get("returncode") == 0 and rec["isolation"]["ok"]
    done = f"    {rec['seconds']} s ok={rec['ok']} {rec['figures'] or rec.get('error')}"
    print(done, file=sys.stderr, flush=True)
    return rec


def _put_back(path: Path, saved: bytes | None, since: float) -> None:
    """Undo the run's write of the checkout's result file (only if the run wrote it)."""
    if not path.exists() or path.stat().st_mtime < since:
        return
    if saved is None:
        path.unlink()
    elif path.read_bytes() != saved:
        path.write_bytes(saved)


def summarize(runs: list[dict[str, Any]]) -> str:
    names = sorted({f"{r['bench']}.{k}" for r in runs for k in r["figures"]})
    head = "| figure | better | A min / median / max | A spread | B min / median / max | B spread | B/A |"
    rows = [head + " n A/B |", "|---|---|---|---:|---|---:|---:|---|"]
    for name in names:
        bench, fig = name.split(".", 1)
        mine = [r for r in runs if r["bench"] == bench and fig in r["figures"]]
        vals = {s: [r["figures"][fig] for r in mine if r["side"] == s] for s in ("A", "B")}
        lower = fig.endswith("_seconds") or "cpu_ms" in fig
        cells = [name, "lower" if lower else "higher"]
        for s in ("A", "B"):
            v = vals[s]
            cells += [f"{_n(min(v))} / **{_n(statistics.median(v))}** / {_n(max(v))}" if v else "–"]
            cells += [f"{max(v) / min(v):.2f}×" if v and min(v) > 0 else "–"]
        ma, mb = (statistics.median(vals[s]) if vals[s] else 0.0 for s in ("A", "B"))
        cells += [f"**{mb / ma:.3f}**" if ma and vals["B"] else "–", f"{len(vals['A'])}/{len(vals['B'])}"]
        rows.append("| " + " | ".join(cells) + " |")
    failed = [f"r{r['round']} {r['side']} {r['bench']}" for r in runs if not r["ok"]]
    notes = [f"not ok (see the JSON): {', '.join(failed)}"] if failed else []
    for side in ("A", "B"):  # the commit each bench reported (+dirty: uncommitted changes)
        m = [r["bench_machine"] for r in runs if r["side"] == side and "bench_machine" in r]
        seen = sorted({f"{x['git_commit']}{'+dirty' if x['git_dirty'] else ''}" for x in m})
        notes += [f"{side}'s code changed during the sitting: {', '.join(seen)}"] if len(seen) > 1 else []
    return "\n\n".join(["\n".join(rows), *notes])


def _n(x: float) -> str:
    return f"{x:.3f}" if abs(x) < 10 else f"{x:,.0f}" if abs(x) >= 1000 else f"{x:.1f}"


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.ab", description=__doc__.split("\n\n")[0])
    p.add_argument("--a", type=Path, required=True, help="checkout A (the baseline)")
    p.add_argument("--b", type=Path, required=True, help="checkout B (the candidate)")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--out", type=Path, default=Path("bench/results/ab.json"))
    p.add_argument("--only", default="engine,push,events", help="comma list of engine, push, events")
    p.add_argument("--instances", "-k", type=int, default=0, help="engine: instances (bench default 2000)")
    p.add_argument("--noop-messages", type=int, default=0, help="engine: no-op messages (bench default 10k)")
    p.add_argument("--batch", type=int, default=50, help="engine: commands per message of the batched run")
    p.add_argument("--engine-args", default="", help="more engine_bench flags, e.g. '--sporadic 0'")
    p.add_argument("--stock", type=int, default=75_000, help="push: licenses in the stock phase")
    p.add_argument("--events-seconds", type=float, default=0, help="events: seconds per mode (default 20)")
    p.add_argument("--pause", type=float, default=5.0, help="idle seconds between runs")
    p.add_argument("--timeout", type=float, default=3600.0, help="seconds per run before it is killed")
    p.add_argument("--logs", type=Path, default=None, help="bench output logs (default: a /tmp dir)")
    return p.parse_args()


def main() -> int:
    a = parse_args()
    a.a, a.b = a.a.resolve(), a.b.resolve()
    a.logs = (a.logs or Path(tempfile.mkdtemp(prefix="ab-logs-"))).resolve()
    a.logs.mkdir(parents=True, exist_ok=True)
    groups = {g.strip() for g in a.only.split(",") if g.strip()}
    todo = [b for b in benches(a) if b.group in groups]
    if not todo or groups - {"engine", "push", "events"}:
        raise SystemExit(f"--only: use engine, push and/or events (got {a.only!r})")
    missing = [v for v in ("YUNSHANG_TEST_PG_URL", "YUNSHANG_TEST_REDIS_URL") if not os.environ.get(v)]
    if missing:
        raise SystemExit(f'{", ".join(missing)} not set: eval "$(scripts/services.sh start)" first')
    if "events" in groups and not shutil.which("wrk"):
        raise SystemExit("events_bench needs wrk: apt-get install wrk")
    sides = {"A": a.a, "B": a.b}
    result: dict[str, Any] = {
        "benchmark": "ab",
        "started": _now(),
        "cores": os.cpu_count(),
        "sides": {s: _describe(c) for s, c in sides.items()},
        "parameters": {k: str(v) if isinstance(v, Path) else v for k, v in vars(a).items()},
        "runs": [],
    }
    a.out.parent.mkdir(parents=True, exist_ok=True)
    print(f"logs in {a.logs}", file=sys.stderr)
    for rnd in range(1, a.rounds + 1):
        for side in ("A", "B") if rnd % 2 else ("B", "A"):
            for bench in todo:
                if result["runs"]:
                    time.sleep(a.pause)
                result["runs"].append(run_one(bench, side, sides[side], rnd, a))
                a.out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    result["finished"] = _now()
    result["summary_markdown"] = summarize(result["runs"])
    a.out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"\nA = {a.a} ({result['sides']['A']['commit']}), B = {a.b} ({result['sides']['B']['commit']})\n")
    print(result["summary_markdown"])
    print(f"\nwrote {a.out}")
    return 0 if all(r["ok"] for r in result["runs"]) else 1


if __name__ == "__main__":
    sys.exit(main())
