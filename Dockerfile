# SaltWatch: ingest, alerts, API and dashboard (`saltwatch serve`), or any other command.
# Two stages: wheels are built with pip's cache and thrown away; the runtime image has no compiler,
# runs as an unprivileged user and keeps its state (alert state, ingest spool) in one volume.
FROM python:3.11-slim-bookworm AS build
WORKDIR /src
COPY pyproject.toml README.md constraints.txt ./
COPY core core
COPY mqtt mqtt
COPY storage storage
COPY ingest ingest
COPY alerts alerts
COPY analytics analytics
COPY api api
COPY sim sim
COPY saltwatch saltwatch
COPY config config
# within the versions the checks last passed with
RUN pip wheel --no-cache-dir --wheel-dir /wheels -c constraints.txt .

FROM python:3.11-slim-bookworm
# Pango lays out the bulletin's PDF (WeasyPrint); DejaVu has the Vietnamese letters
RUN apt-get update && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 \
    fonts-dejavu-core && rm -rf /var/lib/apt/lists/*
RUN useradd --system --uid 10001 --home-dir /var/lib/saltwatch --create-home saltwatch
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir --no-compile /wheels/*.whl && rm -rf /wheels
USER saltwatch
WORKDIR /var/lib/saltwatch
ENV PYTHONUNBUFFERED=1 \
    SALTWATCH_STATE__PATH=/var/lib/saltwatch/state.db \
    SALTWATCH_INGEST__SPOOL_PATH=/var/lib/saltwatch/spool \
    SALTWATCH_API__BIND=0.0.0.0:8000
VOLUME ["/var/lib/saltwatch"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=4).status != 200)"]
ENTRYPOINT ["saltwatch"]
CMD ["serve"]
