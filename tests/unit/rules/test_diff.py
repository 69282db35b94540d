"""What changed between two rule sets, in rule terms."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from rules import Change, RuleSet, diff, format_diff, load_rules

Edit = Callable[[str, str, str], Path]


def test_identical_sets_have_no_changes(defaults: RuleSet, rules_copy: Path) -> None:
    (rules_copy / "sampling.yaml").write_text(
        "# comments and layout do not count\n" + (rules_copy / "sampling.yaml").read_text(encoding="utf-8"),
        encoding="utf-8",
    )
    assert diff(defaults, load_rules(rules_copy)) == []
    assert format_diff([]) == "no changes"


def test_edits_are_described_in_rule_terms(defaults: RuleSet, edit: Edit) -> None:
    edit("deadlines.yaml", "claim_deadline: 48h ", "claim_deadline: 72h ")
    edit("permit_routing.yaml", "keywords: [药品零售]", "keywords: [药品零售, 药品批发]")
    edit("permit_routing.yaml", "    approving: JTJ\n", "    approving: SJ_SCJG\n")
    edit("escalation.yaml", "target: {role: supervisor, unit: PTB}", "target: {level: above}")
    edit(
        "organisation.yaml",
        "  # --- the platform office",
        "  - code: SJJ\n    name: 青岛市崂山区审计局\n    short_name: 区审计局\n    leader_role: leader\n"
        "  # --- the platform office",
    )
    edit("organisation.yaml", "short_name: 区城市管理局 ", "short_name: 区城管局 ")
    directory = edit("sampling.yaml", "ratio: 60%", "ratio: 50%")
    changes = diff(defaults, load_rules(directory))
    assert [str(change) for change in changes] == [
        "+ routing 药品批发 → DRUG_RETAIL",
        "~ permit ROAD_TRANSPORT: 道路运输经营许可; approving JTJ; supervising JTJ → "
        "道路运输经营许可; approving SJ_SCJG; supervising JTJ",
        "~ deadline dual_notification/awaiting_claim/claim_deadline: 48h → 72h",
        "~ step dual_notification_claim.supervise: #3 supervise 平台办督办 → supervisor of PTB; end → "
        "#3 supervise 平台办督办 → the level above; end",
        "~ department CGJ: 青岛市崂山区城市管理局 (区城市管理局); district; parent none; leader leader → "
        "青岛市崂山区城市管理局 (区城管局); district; parent none; leader leader",
        "+ department SJJ: 青岛市崂山区审计局 (区审计局); district; parent none; leader leader",
        "~ sampling risk class D: 信用风险高 60% → 信用风险高 50%",
    ]
    assert changes[0] == Change("routing", "added", "药品批发 → DRUG_RETAIL")


def test_removals_and_ladder_changes(defaults: RuleSet, edit: Edit) -> None:
    edit(
        "permit_routing.yaml",
        "keywords: [住宿服务, 公共浴室, 理发服务, 生活美容服务]",
        "keywords: [住宿服务, 公共浴室, 理发服务]",
    )
    edit(
        "deadlines.yaml",
        "      review_deadline: 2h\n",
        "      review_deadline: 2h\n      review_warning: 1h\n",
    )
    directory = edit(
        "escalation.yaml",
        "start: {step: warn, at: claim_warning}",
        "start: {step: overdue, at: claim_deadline}",
    )
    lines = format_diff(diff(defaults, load_rules(directory))).splitlines()
    assert lines == [
        "- routing 生活美容服务 → PUBLIC_PLACE_HYGIENE",
        "+ deadline toy/awaiting_review/review_warning: 1h",
        "~ ladder dual_notification_claim: 双告知48小时认领; dual_notification/awaiting_claim; starts with warn "
        "at claim_warning → 双告知48小时认领; dual_notification/awaiting_claim; starts with overdue at claim_deadline",
    ]
