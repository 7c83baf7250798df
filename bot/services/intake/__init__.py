"""Wish intake and dispatch (群众点单 · 社区派单): understand, file, review, route."""
