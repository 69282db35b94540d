"""The rules tests' folders to edit (``rules_copy``, ``edit``) serve the contract tests too."""

from tests.unit.rules.conftest import edit, rules_copy

__all__ = ["edit", "rules_copy"]
