"""Dose labels now live in doses.reports (the domain's printouts); these names stay importable here for
the demo facility (demo/custody.py)."""

from doses.reports import AUTOLOGOUS, EU_TRIAL, US_CAUTION, dose_labels, labels_pdf  # noqa: F401
