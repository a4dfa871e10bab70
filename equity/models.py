"""The app's models live in its three packages; importing their modules here is how Django
finds them (the ``equity`` app label, tables and migrations are unchanged). Import models
from their package (``equity.inventory.models`` and so on), not from here."""

from .imports import models as imports_models  # noqa: F401
from .inventory import models as inventory_models  # noqa: F401
from .year import models as year_models  # noqa: F401
