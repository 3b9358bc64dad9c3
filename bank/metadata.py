"""Every model of every domain, imported so Alembic and the drift test see the whole schema."""

import bank.models  # noqa: F401
from bank.db import Base

for _module in ("donors.models", "lots.models", "release.models", "doses.models", "doses.custody.models"):
    try:
        __import__(_module)
    except ModuleNotFoundError as e:  # a domain without models yet
        if e.name != _module:
            raise

target_metadata = Base.metadata
