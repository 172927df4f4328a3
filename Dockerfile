# paperbot service image: `paperbot run` with the CPU build of torch and the bundled model.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    HF_HUB_OFFLINE=1 \
    PAPERBOT_DB=/data/paperbot.db

WORKDIR /app

# The system's time zone database, which zoneinfo reads (user time zones, arXiv's New York
# schedule); the slim image leaves it out.
RUN apt-get update && apt-get install -y --no-install-recommends tzdata \
    && rm -rf /var/lib/apt/lists/*

# Every package at the version and hash in requirements.lock. Its torch is the CPU build
# (2.13.0+cpu), which PyTorch's CPU index serves, so the CUDA build never lands.
COPY requirements.lock ./
RUN pip install --require-hashes --extra-index-url https://download.pytorch.org/whl/cpu \
    -r requirements.lock

COPY pyproject.toml README.md LICENSE ./
COPY bot ./bot
COPY handlers ./handlers
COPY config ./config
RUN pip install --no-deps --no-build-isolation -e .

RUN useradd --create-home --uid 10001 paperbot \
    && mkdir -p /data && chown paperbot /data
USER paperbot
VOLUME ["/data"]

EXPOSE 3000
# /healthz answers in HTTP mode; in Socket Mode there is no port and the check is skipped.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD python -c "import os, sys, urllib.request; os.environ.get('SLACK_APP_TOKEN') and sys.exit(0); urllib.request.urlopen('http://127.0.0.1:3000/healthz', timeout=4)"

CMD ["paperbot", "run"]
