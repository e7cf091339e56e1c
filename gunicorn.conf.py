"""gunicorn's settings, read from the working directory by the web line."""

# Empty PROMETHEUS_MULTIPROC_DIR before the workers start (portal/metrics.py).
from slaportal.observability import gunicorn_on_starting as on_starting  # noqa: F401
