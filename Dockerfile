# The Berth operator image: `python -m berth`, as the chart runs it.
# Runtime dependencies only, at the versions requirements.lock pins (used as constraints, so the
# dev tools in the same lock are not installed). Runs as UID 10001 with a read-only root filesystem.
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml requirements.lock README.md ./
COPY operator ./operator
RUN python -m venv /opt/berth \
 && /opt/berth/bin/pip install --constraint requirements.lock . \
 && /opt/berth/bin/python -c "import berth.handlers.lifecycle, berth.settings"

FROM python:3.11-slim
ENV PATH=/opt/berth/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
RUN groupadd --gid 10001 berth \
 && useradd --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin berth
COPY --from=build /opt/berth /opt/berth
USER 10001:10001
EXPOSE 8080 8081
ENTRYPOINT ["python", "-m", "berth"]
