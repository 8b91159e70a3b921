"""adplan's HTTP service: FastAPI over the same functions as the CLI, with persisted plans.

``create_app(settings=None)`` builds the app; ``Settings`` / ``get_settings()`` read the
``ADPLAN_`` environment. See docs/service.md.
"""

from .app import create_app
from .settings import Settings, get_settings

__all__ = ["Settings", "create_app", "get_settings"]
