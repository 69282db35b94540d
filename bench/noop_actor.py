"""Imported by the Dramatiq CLI after ``worker:broker``: adds the no-op actor to the worker's broker.

``python worker.py bench.noop_actor --processes N --threads T``
"""

from __future__ import annotations

import dramatiq

from bench.noop import declare_noop

declare_noop(dramatiq.get_broker())
