"""The clock: due-item rows fired exactly once, woken by APScheduler."""
