"""Pushes: delivery rows, the channels they leave through (log, signed webhook), and the helpers that
resolve recipients from the rules.
"""
