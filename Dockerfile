# Rapport's image: the API and the dashboard (target "app"), and Debian's nginx with
# deploy/nginx/rapport.conf (target "proxy"). compose.yaml runs both.
#   docker build --target app -t rapport .      docker build --target proxy -t rapport-proxy .
# Any Debian 12 image will do as the base (BASE_IMAGE); its Python 3.11 runs Rapport.
ARG BASE_IMAGE=docker.io/library/debian:bookworm-slim

FROM ${BASE_IMAGE} AS app
RUN apt-get update \
    && apt-get install -y --no-install-recommends python3 python3-venv ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --home-dir /app --shell /usr/sbin/nologin rapport
WORKDIR /app
# The locked versions, checked against their hashes, before the code: a code change
# does not reinstall the dependencies.
COPY requirements/run.txt requirements/run.txt
# Behind a TLS-inspecting proxy, mount its CA into the build and name it here.
ARG PIP_INDEX_CA=""
RUN if [ -n "$PIP_INDEX_CA" ]; then export PIP_CERT="$PIP_INDEX_CA"; fi \
    && python3 -m venv /venv \
    && /venv/bin/pip install --no-cache-dir --disable-pip-version-check --require-hashes \
       -r requirements/run.txt
COPY pyproject.toml README.md alembic.ini ./
COPY .streamlit .streamlit
COPY migrations migrations
COPY scoring scoring
COPY backend backend
COPY dashboard dashboard
RUN if [ -n "$PIP_INDEX_CA" ]; then export PIP_CERT="$PIP_INDEX_CA"; fi \
    && /venv/bin/pip install --no-cache-dir --disable-pip-version-check --no-deps -e . \
    && mkdir -p /app/var && chown rapport /app/var
ENV PATH=/venv/bin:$PATH RAPPORT_MODE=production PYTHONUNBUFFERED=1
USER rapport
EXPOSE 8000 8501
# One worker an instance (its /metrics are per process); run more instances to scale.
# FORWARDED_ALLOW_IPS: the proxy's address, the only one whose X-Forwarded-For is taken.
CMD ["sh", "-c", "exec uvicorn backend.main:app --host 0.0.0.0 --port 8000 --proxy-headers --forwarded-allow-ips \"${FORWARDED_ALLOW_IPS:-127.0.0.1}\""]

FROM ${BASE_IMAGE} AS proxy
RUN apt-get update \
    && apt-get install -y --no-install-recommends nginx-light gettext-base \
    && rm -rf /var/lib/apt/lists/* /etc/nginx/sites-enabled/default
COPY deploy/nginx /opt/rapport-nginx
EXPOSE 80 443
CMD ["sh", "-c", "/opt/rapport-nginx/render > /etc/nginx/conf.d/rapport.conf && exec nginx -g 'daemon off;'"]
