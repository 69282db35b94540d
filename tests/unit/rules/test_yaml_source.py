"""The marked YAML reader: positions of every node, duplicate keys, syntax errors."""

from __future__ import annotations

from datetime import date

import pytest

from rules.yaml_source import Duplicate, format_path, parse_yaml, position_of


def test_positions_of_keys_and_items() -> None:
    parsed = parse_yaml("a: 1\nb:\n  - x: 1\n    y: [2, 3]\n")
    assert parsed.data == {"a": 1, "b": [{"x": 1, "y": [2, 3]}]}
    assert parsed.positions[("a",)] == (1, 1)
    assert parsed.positions[("b", 0)] == (3, 5)
    assert parsed.positions[("b", 0, "y")] == (4, 5)
    assert parsed.positions[("b", 0, "y", 1)] == (4, 12)
    assert position_of(parsed.positions, ("b", 0, "missing", 3)) == (3, 5)


def test_duplicate_keys_are_all_found_and_the_first_value_kept() -> None:
    parsed = parse_yaml("a: 1\nb:\n  x: 1\n  x: 2\na: 3\n")
    assert parsed.duplicates == [
        Duplicate("a", (1, 1), (5, 1), ("a",)),
        Duplicate("x", (3, 3), (4, 3), ("b", "x")),
    ]
    assert parsed.data == {"a": 1, "b": {"x": 1}}


def test_plain_pyyaml_would_have_kept_the_last() -> None:
    import yaml

    assert yaml.safe_load("a: 1\na: 2\n") == {"a": 2}


def test_syntax_errors_are_returned_not_raised() -> None:
    assert parse_yaml("a: b: c\n").syntax_error == (
        (1, 5),
        "YAML syntax error: mapping values are not allowed here",
    )
    parsed = parse_yaml("a:\n\tb: 1\n")
    assert parsed.data is None
    assert parsed.syntax_error is not None
    assert parsed.syntax_error[0] == (2, 1)


def test_unhashable_keys_are_a_syntax_problem() -> None:
    problem = parse_yaml("? [1, 2]\n: x\n").syntax_error
    assert problem == ((1, 3), "YAML syntax error: a key must be a plain word, not a list or mapping")


def test_a_date_that_does_not_exist_stays_text_instead_of_stopping_the_reader() -> None:
    import yaml

    with pytest.raises(ValueError, match="day is out of range for month"):  # plain PyYAML: no line
        yaml.safe_load("a: 2027-02-30\n")
    parsed = parse_yaml("a: 2027-02-30\nb: 2027-02-28\n")
    assert parsed.syntax_error is None
    assert parsed.data == {"a": "2027-02-30", "b": date(2027, 2, 28)}


def test_empty_document() -> None:
    parsed = parse_yaml("# only a comment\n")
    assert parsed.data is None
    assert parsed.syntax_error is None


def test_format_path() -> None:
    assert format_path(("routes", 3, "keywords", 0)) == "routes[3].keywords[0]"
    assert format_path(("flows", "toy", "awaiting_review")) == "flows.toy.awaiting_review"
    assert format_path(()) == ""
