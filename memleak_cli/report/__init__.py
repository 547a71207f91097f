"""The report model (plain dataclasses) and its versioned JSON form."""
