"""The markdown table of ``bench/results/peers_claim.json`` (min / **median** / max of the rounds)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

FIGURES = (
    ("notices_per_s", "notices/s (start + push + arm)"),
    ("claims_per_s", "claims/s (claim + cancel)"),
    ("cpu_ms_per_notice", "CPU ms per notice, all processes"),
    ("peak_rss_mb", "peak RSS of the engine's processes, MB"),
    ("other_load_cores", "other load on the machine, cores"),
)


def _n(x: float) -> str:
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:.1f}" if abs(x) >= 10 else f"{x:.2f}"


def _cell(stats: dict[str, Any] | None) -> str:
    if not stats:
        return "–"
    return f"{_n(stats['min'])} / **{_n(stats['median'])}** / {_n(stats['max'])}"


def table(result: dict[str, Any]) -> str:
    """A row per K and figure; a column per yunshang side, DBOS's, and each yunshang side's ratio."""
    summary = result.get("summary", {})
    names = [n for n in next(iter(summary.values()), {}) if n not in ("dbos", "ratios", "ratios_by_side")]
    head = [f"{n} min / **median** / max" for n in names] + ["DBOS min / **median** / max"]
    head += [f"ratio, {n}" for n in names] if len(names) > 1 else ["ratio"]
    rows = [
        "| K | figure | " + " | ".join(head) + " |",
        "|---:|---|" + "---|" * (len(names) + 1) + "---:|" * len(names),
    ]
    keys = {
        "notices_per_s": "notices_per_s",
        "claims_per_s": "claims_per_s",
        "cpu_ms_per_notice": "cpu_per_notice_dbos_over_yunshang",
        "peak_rss_mb": "peak_rss_dbos_over_yunshang",
    }
    for k, per in summary.items():
        by_side = per.get("ratios_by_side") or ({names[0]: per["ratios"]} if "ratios" in per else {})
        for key, label in FIGURES:
            cells = [
                f"{int(k):,}",
                label,
                *(_cell(per[n].get(key)) for n in names),
                _cell(per["dbos"].get(key)),
            ]
            for n in names:
                r = by_side.get(n, {}).get(keys.get(key, ""))
                cells.append(f"**{r:.1f}×**" if r is not None else "")
            rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(rows)


def tuning(folder: Path) -> str:
    """One row per tuning run in ``folder`` (``bench/results/peers_tuning/*.json``)."""
    rows = ["| run | side, options | K | notices/s | claims/s | CPU ms / notice | peak RSS MB | other load |"]
    rows.append("|---|---|---:|---:|---:|---:|---:|---:|")
    for path in sorted(folder.glob("*.json")):
        for r in json.loads(path.read_text(encoding="utf-8"))["runs"]:
            o = r.get("dbos_options")
            what = r["side"] if o is None else "dbos " + ", ".join(f"{k}={v}" for k, v in o.items())
            figures = [r["notices_per_s"], r["claims_per_s"], r["cpu_ms_per_notice"], r["peak_rss_mb"]]
            load = f"{r['other_load_cores']}"
            cells = [path.stem, what, f"{r['k']:,}", *(_n(float(f)) for f in figures), load]
            rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(rows)


if __name__ == "__main__":
    results = Path(__file__).parents[1] / "results"
    if sys.argv[1:] == ["--tuning"]:
        print(tuning(results / "peers_tuning"))
    else:
        path = Path(sys.argv[1]) if len(sys.argv) > 1 else results / "peers_claim.json"
        print(table(json.loads(path.read_text(encoding="utf-8"))))
