"""Demo facility: fills an empty database with a realistic facility through the real services."""
