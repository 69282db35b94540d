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
    rows = ["| K | figure | yunshang min / **median** / max | DBOS min / **median** / max | ratio |"]
    rows.append("|---:|---|---|---|---:|")
    for k, per in result.get("summary", {}).items():
        ratios = per.get("ratios", {})
        ratio = {
            "notices_per_s": ratios.get("notices_per_s"),
            "claims_per_s": ratios.get("claims_per_s"),
            "cpu_ms_per_notice": ratios.get("cpu_per_notice_dbos_over_yunshang"),
            "peak_rss_mb": ratios.get("peak_rss_dbos_over_yunshang"),
        }
        for key, label in FIGURES:
            r = ratio.get(key)
            shown = f"**{r:.1f}×**" if r is not None else ""
            mine, peer = _cell(per["yunshang"].get(key)), _cell(per["dbos"].get(key))
            cells = [f"{int(k):,}", label, mine, peer, shown]
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
