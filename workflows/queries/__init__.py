"""Read models for operators: instances (filtered, paginated, overdue), one instance in full, status,
Prometheus metrics.
"""
