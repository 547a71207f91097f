"""A user file that raises on import."""

raise ZeroDivisionError("division by zero in user code")
