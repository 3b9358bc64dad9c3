"""Every model of every domain, imported so Alembic and the drift test see the whole schema."""

import bank.audit_review  # noqa: F401
import bank.models  # noqa: F401
import bank.notifications.models  # noqa: F401
import bank.verification.models  # noqa: F401
from bank.db import Base

for _module in (
    "donors.models",
    "lots.models",
    "release.models",
    "doses.models",
    "doses.custody.models",
    "biovigilance.models",
):
    try:
        __import__(_module)
    except ModuleNotFoundError as e:  # a domain without models yet
        if e.name != _module:
            raise

target_metadata = Base.metadata


def include_object_on(dialect_name: str):
    """Alembic's include_object for one database: leaves out the model objects made only on another
    (Index(...).ddl_if(dialect=…), e.g. PostgreSQL's trigram indexes), which Alembic does not heed."""

    def include_object(obj, _name, _type, reflected, _compare_to) -> bool:
        only_on = getattr(getattr(obj, "_ddl_if", None), "dialect", None)
        return reflected or only_on is None or only_on == dialect_name

    return include_object
