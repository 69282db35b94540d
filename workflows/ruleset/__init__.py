"""The engine's side of the rules: deadlines from a rule set, stored versions, hot reload, the contract
between rules and flows, recompute.
"""
