"""Getting messages through: the outbox relay, the timer sweep, dead letters, retries of transient
failures.
"""
