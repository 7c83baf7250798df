"""People: accounts and roles, registration, profiles, grids, the expected-member roster."""
