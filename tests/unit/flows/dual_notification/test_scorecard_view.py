"""The dual-notification scorecard table lines up in a terminal: Chinese names are two columns wide."""

from __future__ import annotations

from datetime import UTC, datetime

from workflows.cli.table import left, width
from workflows.flows.dual_notification.scorecard import Score, Scorecard
from workflows.flows.dual_notification.scorecard_view import format_scorecard

AT = datetime(2026, 10, 8, tzinfo=UTC)


def test_every_row_of_the_table_has_one_display_width() -> None:
    departments = [
        Score("SCJG_YP", "区市场监管局(药监)", notices=12, claim_due=10, claimed_in_time=9),
        Score("GAFJ", "公安崂山分局", notices=3, claim_due=3, claimed_in_time=1),
        Score("XFJY", "区消防救援大队", notices=1),
    ]
    overall = Score("all", notices=16, claim_due=13, claimed_in_time=10)
    text = format_scorecard(Scorecard(AT, AT, AT, departments, overall))
    table = text.splitlines()[1:]
    assert len({width(line) for line in table}) == 1, table
    assert table[2].startswith("SCJG_YP 区市场监管局(药监)")


def test_a_name_too_wide_is_cut_at_a_character_never_inside_one() -> None:
    assert left("区市场监管局(药监)食品科", 9) == "区市场监 "
    assert width(left("GAFJ 公安崂山分局", 28)) == 28
