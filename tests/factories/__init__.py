"""Factories that put records in a state by driving the real services (DESIGN.md: fixtures never fake a
status): lots, release, doses, custody."""
