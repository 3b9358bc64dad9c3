"""Biovigilance: adverse events after an infusion, linked back to the dose, lot and donor and forward to
every other recipient of the same cells; QA investigation and the 2006/86/EC reports (DOMAIN.md §8)."""
