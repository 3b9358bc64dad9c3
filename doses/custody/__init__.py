"""Chain of custody of a dose (DOMAIN.md §5): every hand-off from the freezer to the patient is an
append-only event signed by the person handing over and the person receiving."""
