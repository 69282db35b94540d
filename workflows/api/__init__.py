"""The HTTP API (FastAPI): intake, queries, audited operator actions, health and metrics; each flow plug-in
adds its own router.
"""
