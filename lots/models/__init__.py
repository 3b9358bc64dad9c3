"""Records of the lots domain: product types, lots and their bench steps, materials, deviations, storage.

Importing this package registers every lots table with the shared metadata (Alembic, drift test).
"""

from lots.models.corrections import EntryCorrection
from lots.models.deviations import Deviation
from lots.models.lots import Harvest, Isolation, Lot, Passage
from lots.models.materials import Material, MaterialLot, MaterialUse
from lots.models.products import ProductType
from lots.models.storage import Container, StorageBox, StorageEvent

__all__ = [
    "Container",
    "Deviation",
    "EntryCorrection",
    "Harvest",
    "Isolation",
    "Lot",
    "Material",
    "MaterialLot",
    "MaterialUse",
    "Passage",
    "ProductType",
    "StorageBox",
    "StorageEvent",
]
