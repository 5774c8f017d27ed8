"""Plain-Python rules of the product: no Flask, no SQLAlchemy, exhaustively tested."""
