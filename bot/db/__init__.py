"""Database layer: SQLAlchemy 2 models and query helpers. Queries never commit; services do."""
