"""The yunshang engine: persistence, transitions, timers, outbox, clock, calendar, CLI."""
