"""`wishbot simulate`: a month of a community through the real services, on a simulated clock."""
