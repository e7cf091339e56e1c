# syntax=docker/dockerfile:1
# The SLA Portal image: one image for every Procfile line (README, "Container image and
# compose"). The default command is the web line; compose.yaml runs the others from it.
#
#   docker build -t slaportal .
#
# No secret is baked in: every setting comes from the environment when a container starts.

# ---------------------------------------------------------------- builder
# The venv, from the lock with its hashes checked. Only the runtime part of the lock:
# requirements.lock also pins the dev tools (pytest, Playwright, Locust, moto, pandas…),
# which a production image has no use for; deploy/runtime_requirements.py keeps the
# entries the app's own dependencies pull in, each exactly as locked (pin and hashes).
FROM python:3.11-slim-bookworm AS builder

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1

WORKDIR /build
COPY pyproject.toml requirements.lock ./
COPY deploy/runtime_requirements.py deploy/
RUN python deploy/runtime_requirements.py pyproject.toml requirements.lock > runtime.lock \
 && python -m venv /opt/venv \
 && /opt/venv/bin/pip install --require-hashes --no-deps -r runtime.lock \
 && /opt/venv/bin/pip check

# ---------------------------------------------------------------- runtime
FROM python:3.11-slim-bookworm AS runtime

# WeasyPrint (statement and credit-note PDFs) loads Pango, HarfBuzz and fontconfig at
# run time; libharfbuzz-subset0 is its fast font subsetting (without it each PDF falls
# back to slow pure-Python subsetting, as in .ci/run). The fonts are the ones
# static/css/statement.css names: Liberation Sans, then DejaVu Sans; the PDFs fetch none.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libpango-1.0-0 \
      libpangoft2-1.0-0 \
      libharfbuzz0b \
      libharfbuzz-subset0 \
      libfontconfig1 \
      fontconfig \
      fonts-liberation \
      fonts-dejavu-core \
 && rm -rf /var/lib/apt/lists/*

# A fixed uid/gid, so volumes and the compose file's `user:` agree with the image.
RUN groupadd --system --gid 10001 slaportal \
 && useradd --system --uid 10001 --gid slaportal --home-dir /var/lib/slaportal \
      --create-home --shell /usr/sbin/nologin slaportal

# VAR_DIR: the user's own writable directory (fontconfig's cache; local e-mail and media
# only in a one-machine set-up, see compose.yaml). STATIC_ROOT: collected below, outside
# VAR_DIR so that a volume mounted there never hides them. Gunicorn's heartbeat files in
# memory (/dev/shm), as its documentation advises for containers.
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    VAR_DIR=/var/lib/slaportal \
    STATIC_ROOT=/app/staticfiles \
    GUNICORN_CMD_ARGS="--worker-tmp-dir /dev/shm"

COPY --from=builder /opt/venv /opt/venv
WORKDIR /app
# The code belongs to root: the app can read it, not change it.
COPY . .

# Static files are collected here, at build time, not only by the release step: every
# container (each web process on each machine) then serves the same hashed, compressed
# files from its own disk (WhiteNoise), with no volume shared between containers. The
# settings need a SECRET_KEY to load; this one exists for this command only (not ENV,
# so it is in no later layer or container). The files belong to the app's user because
# the release line runs collectstatic again, harmlessly, in its own container.
RUN python -m compileall -q /app \
 && SECRET_KEY=collectstatic-at-build-time-only python manage.py collectstatic --no-input -v0 \
 && chown -R slaportal:slaportal /app/staticfiles

USER 10001:10001
EXPOSE 8000

# Is this web process serving? deploy/healthcheck.py asks /healthz (a 503 there is a
# failing dependency or job, which a restart would not mend: the monitor reports those).
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["python", "/app/deploy/healthcheck.py"]

# The Procfile's web line; `exec` so that gunicorn, not the shell, receives SIGTERM.
CMD ["sh", "-c", "exec gunicorn slaportal.wsgi --workers ${WEB_CONCURRENCY:-4} --bind 0.0.0.0:${PORT:-8000} --timeout 30 --graceful-timeout 30 --no-control-socket --access-logfile -"]
