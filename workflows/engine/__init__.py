"""The engine: a command's pure decision (decide.py) and the one path that applies it in one transaction
(apply.py), the Engine facade (core.py), commands into the outbox (send.py).
"""
