"""mlkit 1.0.0: tiny test package for pickle-doctor's differential matrix.

Public names come in through star imports that obey ``__all__``:
``mlkit.Scaler``, ``mlkit.Pipeline``, ``mlkit.make_default`` (from .models) and
``mlkit.Encoder``, ``mlkit.encode`` (from ._api, whose objects say
``__module__ = "mlkit"``, so pickles name them as ``mlkit.Encoder`` / ``mlkit.encode``).
"""

__version__ = "1.0.0"

from .models import *  # noqa: F401,F403  (models.__all__)
from ._api import *  # noqa: F401,F403  (_api.__all__)
