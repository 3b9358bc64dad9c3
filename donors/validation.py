"""Old import path of the donors' input refusal, kept while lots.services.harvest catches `DonorError`
around `set_harvest_date`: donors refuse with bank.refusals.Refused (input errors by field) now."""

from bank.refusals import Refused as DonorError

__all__ = ["DonorError"]
