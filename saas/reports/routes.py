"""Report pages. Each page validates its query string, calls a service in saas/services/reports/ and renders."""
from . import bp  # noqa: F401
