"""Points (积分): the ledger, adjustments, passbook, leaderboards, expiry, shop, declarations."""
