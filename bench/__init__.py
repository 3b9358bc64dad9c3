"""Performance tooling (issue 9): a ten-year dataset generator and a benchmark; not part of the test suite."""
