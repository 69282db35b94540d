"""Business scope → permit items → departments (match_scope is pure: rules in, result out)."""

from __future__ import annotations

from rules import MatchResult, RuleSet, match_scope


def summary(result: MatchResult) -> dict[str, tuple[str, tuple[str, ...]]]:
    return {m.permit: (m.approving, m.supervising) for m in result.permits}


def test_pharmacy_needs_drug_retail_and_food_business(defaults: RuleSet) -> None:
    scope = "药品零售;食品销售(仅销售预包装食品)"
    result = match_scope(defaults, scope)
    assert result.status == "matched"
    assert summary(result) == {
        "DRUG_RETAIL": ("SCJG_YP", ("SCJG_YP",)),
        "FOOD_BUSINESS": ("SCJG_SP", ("SCJG_SP",)),
    }
    drug, food = result.permits
    assert (drug.permit_name, food.permit_name) == ("药品经营许可(零售)", "食品经营许可")
    assert [(e.kind, e.rule, e.start, e.end) for e in drug.evidence] == [("keyword", "药品零售", 0, 4)]
    assert [(e.rule, scope[e.start : e.end]) for e in food.evidence] == [("食品销售", "食品销售")]
    assert result.departments == ("SCJG_YP", "SCJG_SP")
    assert defaults.permit_routing.routes[drug.evidence[0].route].permit.code == "DRUG_RETAIL"


def test_hotel_needs_hygiene_special_trade_and_food_business(defaults: RuleSet) -> None:
    result = match_scope(defaults, "住宿服务;餐饮服务")
    assert summary(result) == {
        "PUBLIC_PLACE_HYGIENE": ("WJJ", ("WJJ",)),
        "HOTEL_SPECIAL_TRADE": ("GAFJ", ("GAFJ",)),
        "FOOD_BUSINESS": ("SCJG_SP", ("SCJG_SP",)),
    }
    hygiene, special, food = result.permits
    assert hygiene.evidence[0].rule == special.evidence[0].rule == "住宿服务"
    assert food.evidence[0].rule == "餐饮服务"
    assert set(result.departments) == {"WJJ", "GAFJ", "SCJG_SP"}


def test_industry_codes_add_venue_permits(defaults: RuleSet) -> None:
    result = match_scope(defaults, "住宿服务", industry_codes=["6110"])
    fire = next(m for m in result.permits if m.permit == "FIRE_SAFETY")
    assert fire.approving == "XFJY"
    assert [(e.kind, e.rule, e.industry_code) for e in fire.evidence] == [("industry_code", "6110", "6110")]
    by_prefix = match_scope(defaults, "纸制品制造", industry_codes=["2221"])
    assert [m.permit for m in by_prefix.permits] == ["POLLUTANT_DISCHARGE"]


def test_no_match_is_explicit(defaults: RuleSet) -> None:
    result = match_scope(defaults, "软件开发;信息技术咨询服务")
    assert result.status == "no_match"
    assert result.no_match
    assert result.permits == ()
    assert result.departments == ()


def test_review_keyword_makes_it_ambiguous(defaults: RuleSet) -> None:
    result = match_scope(defaults, "医疗器械经营;食品销售")
    assert result.status == "ambiguous"
    assert result.ambiguous
    (review,) = result.reviews
    assert (review.keyword, review.start, review.end, review.candidates) == (
        "医疗器械经营",
        0,
        6,
        ("MEDICAL_DEVICE_III",),
    )
    assert "第二类仅需备案" in review.reason
    assert [m.permit for m in result.permits] == ["FOOD_BUSINESS"]


def test_a_longer_keyword_hides_the_shorter_one_inside_it(defaults: RuleSet) -> None:
    result = match_scope(defaults, "第三类医疗器械经营")
    assert result.status == "matched"
    assert [m.permit for m in result.permits] == ["MEDICAL_DEVICE_III"]
    assert summary(result)["MEDICAL_DEVICE_III"] == ("SJ_SCJG", ("SCJG_YP",))


def test_negated_keywords_do_not_count(defaults: RuleSet) -> None:
    scope = "化工产品销售（不含危险化学品经营）；烟花爆竹零售"
    result = match_scope(defaults, scope)
    assert [m.permit for m in result.permits] == ["FIREWORKS"]
    assert [(e.rule, scope[e.start : e.end]) for e in result.negated] == [
        ("危险化学品经营", "危险化学品经营")
    ]


def test_full_width_punctuation_and_repeats(defaults: RuleSet) -> None:
    scope = "许可项目：食品销售；餐饮服务。一般项目：食品销售（仅销售预包装食品）"
    result = match_scope(defaults, scope)
    (food,) = result.permits
    assert [(e.rule, e.start) for e in food.evidence] == [("食品销售", 5), ("餐饮服务", 10), ("食品销售", 20)]


def test_departments_appear_once_approving_first(defaults: RuleSet) -> None:
    result = match_scope(defaults, "第三类医疗器械经营;药品零售")
    assert result.departments == ("SJ_SCJG", "SCJG_YP")
