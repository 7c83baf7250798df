"""治安巡查: patrol routes and shifts, sign-up and check-in, hazards, points, figures."""
