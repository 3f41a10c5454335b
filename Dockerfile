# The provisioning service: one image for the web process, the workers and migrations.
#   docker build -t provisioning .
#   docker run -p 8000:8000 provisioning          # embedded default: SQLite + in-process jobs in /data
# docker-compose.yml runs the production layout (PostgreSQL + Redis + gunicorn + workers).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY pyproject.toml README.md wsgi.py ./
# Every package pyproject.toml's [tool.setuptools.packages.find] names (tests/unit/test_dockerfile.py holds it).
COPY provisioning ./provisioning
COPY api ./api
COPY scim ./scim
COPY lti ./lti
COPY ui ./ui
COPY jobs ./jobs
COPY web ./web
COPY server ./server
COPY join ./join
RUN pip install --upgrade pip setuptools \
 && pip install . \
 && useradd --system --uid 10001 --home-dir /data --create-home provisioning

# The embedded default keeps its SQLite file and generated secret in the working directory.
USER provisioning
WORKDIR /data
EXPOSE 8000
CMD ["provisioning", "serve", "--host", "0.0.0.0", "--port", "8000"]
