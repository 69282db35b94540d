"""The shipped rule set (Laoshan, Qingdao, 370212) is complete and lints clean."""

from __future__ import annotations

from pathlib import Path

from rules import DEFAULT_DIRECTORY, RuleSet, content_hash, format_report, lint, load_rules

STARTER_PERMITS = {
    "FOOD_BUSINESS": "SCJG_SP",
    "FOOD_PRODUCTION": "SCJG_SP",
    "DRUG_RETAIL": "SCJG_YP",
    "MEDICAL_DEVICE_III": "SJ_SCJG",
    "MEDICAL_PRACTICE": "WJJ",
    "PUBLIC_PLACE_HYGIENE": "WJJ",
    "HOTEL_SPECIAL_TRADE": "GAFJ",
    "ENTERTAINMENT_VENUE": "WLJ",
    "INTERNET_CAFE": "WLJ",
    "PUBLICATIONS": "XCB",
    "HAZARDOUS_CHEMICALS": "YJJ",
    "FIREWORKS": "YJJ",
    "ROAD_TRANSPORT": "JTJ",
    "FIRE_SAFETY": "XFJY",
    "TOBACCO_RETAIL": "YCJ",
    "HR_SERVICES": "RSJ",
    "LABOUR_DISPATCH": "RSJ",
    "GAS": "CGJ",
    "VETERINARY_DRUGS": "NYJ",
    "PESTICIDES": "NYJ",
    "ANIMAL_CLINIC": "NYJ",
    "POLLUTANT_DISCHARGE": "STHJ",
}


def test_every_shipped_file_lints_clean() -> None:
    report = lint(DEFAULT_DIRECTORY)
    assert report.problems == (), format_report(report)
    assert format_report(report).endswith("0 errors, 0 warnings")


def test_every_starter_table_row_is_routed(defaults: RuleSet) -> None:
    approving = {route.permit.code: route.approving for route in defaults.permit_routing.routes}
    assert approving == STARTER_PERMITS
    keywords = {kw for route in defaults.permit_routing.routes for kw in route.keywords}
    for keyword in ["食品销售", "餐饮服务", "药品零售", "住宿服务", "公共浴室", "理发服务", "生活美容服务",
                    "歌舞娱乐活动", "游艺娱乐活动", "互联网上网服务", "出版物零售", "危险化学品经营",
                    "烟花爆竹零售", "道路货物运输", "道路旅客运输经营", "烟草制品零售", "职业中介活动",
                    "劳务派遣服务", "燃气经营", "兽药经营", "农药零售", "动物诊疗", "第三类医疗器械经营",
                    "医疗服务", "食品生产"]:  # fmt: skip
        assert keyword in keywords


def test_organisation_has_the_reference_district(defaults: RuleSet) -> None:
    org = defaults.organisation
    assert org.district.code == "370212"
    codes = {d.code for d in org.departments}
    assert {"SCJG", "SCJG_SP", "SCJG_YP", "SJ_SCJG", "PTB", "WJJ", "GAFJ", "XFJY", "STHJ", "XCB"} <= codes
    assert {d.parent for d in org.departments if d.code in ("SCJG_SP", "SCJG_YP")} == {"SCJG"}
    assert all(d.leader_role == "leader" for d in org.departments)
    assert [lvl.level for lvl in org.escalation_levels] == ["grid", "street", "department", "district"]
    assert {g.street for g in org.grids} <= {s.code for s in org.streets}


def test_deadlines_are_looked_up_by_flow_state_and_timer(defaults: RuleSet) -> None:
    assert defaults.deadline("dual_notification", "awaiting_claim", "claim_warning") == "36h"
    assert defaults.deadline("dual_notification", "awaiting_claim", "claim_deadline") == "48h"
    assert (
        defaults.deadline("dual_notification", "awaiting_claim", "claim_supervision") == "48h + 1 working day"
    )
    assert defaults.deadline("grid_check", "assigned", "acknowledge_deadline") == "1 working day"
    assert defaults.deadline("grid_check", "acknowledged", "first_check_deadline") == "5 working days"
    assert defaults.deadline("grid_check", "rectifying", "recheck_deadline") == "7 natural days"
    assert defaults.deadline("grid_check", "street_enforcement", "enforcement_deadline") == "10 working days"
    assert defaults.deadline("joint_inspection", "awaiting_publication", "publication_deadline") == (
        "20 working days"
    )
    assert defaults.timers("toy", "awaiting_review") == {"review_deadline": "2h"}
    assert defaults.deadline("toy", "awaiting_review", "nope") is None
    assert defaults.timers("toy", "nope") == {}


def test_the_claim_ladder_warns_then_goes_overdue_then_supervises(defaults: RuleSet) -> None:
    (ladder,) = defaults.ladders_for("dual_notification", "awaiting_claim")
    assert (ladder.start.step, ladder.start.at) == ("warn", "claim_warning")
    steps = [(s.code, s.kind, s.target.describe(), s.next.at if s.next else None) for s in ladder.steps]
    assert steps == [
        ("warn", "warn", "notice_handler of $assignee", "claim_deadline"),
        ("overdue", "overdue", "leader of $assignee", "claim_supervision"),
        ("supervise", "supervise", "supervisor of PTB", None),
    ]
    assert ladder.steps[-1].end


def test_sampling_policy(defaults: RuleSet) -> None:
    sampling = defaults.sampling
    assert {r.code: r.ratio for r in sampling.risk_classes} == {"A": "3%", "B": "5%", "C": "20%", "D": "60%"}
    assert [str(r.share) for r in sampling.risk_classes] == ["0.03", "0.05", "0.2", "0.6"]
    assert sampling.min_officers_per_department == 2
    assert sampling.exclusion.window == "12 months"


def test_content_hash_follows_the_bytes(defaults: RuleSet, rules_copy: Path) -> None:
    assert len(defaults.content_hash) == 64
    assert content_hash(rules_copy) == defaults.content_hash == lint(rules_copy).content_hash
    with (rules_copy / "sampling.yaml").open("a", encoding="utf-8") as handle:
        handle.write("# a comment changes the bytes\n")
    assert content_hash(rules_copy) != defaults.content_hash
    assert load_rules(rules_copy).content_hash == content_hash(rules_copy)


def test_locations_point_into_the_files(defaults: RuleSet) -> None:
    line, column = defaults.where(
        "deadlines.yaml", "flows.dual_notification.awaiting_claim.claim_deadline"
    ) or (0, 0)
    text = (DEFAULT_DIRECTORY / "deadlines.yaml").read_text(encoding="utf-8").splitlines()
    assert text[line - 1][column - 1 :].startswith("claim_deadline: 48h")
