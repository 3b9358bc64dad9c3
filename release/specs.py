"""The seed specifications moved to release.reference; this name stays importable for the demo facility and
the doses tests, converted separately."""

from release.reference import (  # noqa: F401
    CELLS_UNIT,
    IFATS_2013_AT_PANEL,
    ISCT_2006_BM_PANEL,
    SEED_VERSION,
    seed_specifications,
)
