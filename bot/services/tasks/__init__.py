"""Offers, claims and the task after the claim (党员接单): pool, rounds, lifecycle."""
