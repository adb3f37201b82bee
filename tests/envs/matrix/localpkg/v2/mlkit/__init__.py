"""mlkit 2.0.0: mlkit 1.0.0 after breaking renames (see pyproject.toml)."""

__version__ = "2.0.0"

from .models import *  # noqa: F401,F403  (models.__all__: no Scaler any more)
from ._api import *  # noqa: F401,F403  (_api.__all__: encode only)
