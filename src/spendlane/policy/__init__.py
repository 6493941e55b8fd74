"""Budgets and the policy built on them: `config` reads what the operator set (see docs/budgets.md).

Kept free of imports so that `import spendlane.policy.config` costs only what that module needs.
"""
