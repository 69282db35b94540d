"""Worker processes for the production stack: a supervisor (``supervisor.py``) that keeps N Dramatiq
worker processes running, and what each of those processes does (``child.py``)."""
