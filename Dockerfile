# syntax=docker/dockerfile:1
#
# mcp-analytics in a container. Two stages:
#   build    the Go toolchain with a C compiler: DuckDB and PostgreSQL's
#            SQL parser are linked in with cgo.
#   runtime  Debian slim with the binary, CA certificates and curl (for
#            HEALTHCHECK), run as an unprivileged user.
#
#   docker build -t mcp-analytics --build-arg VERSION=$(git describe --tags --always) .
#   docker run -p 127.0.0.1:8000:8000 -v mcpa-data:/data -e MCPA_AUTH_REQUIRED=true mcp-analytics
#
# See README "Deploying" for compose.yaml and render.yaml.

FROM golang:1.26-trixie AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
# The build command is also run by internal/cli's deployment test, so the
# binary it starts is built the way this image builds it.
RUN CGO_ENABLED=1 go build -ldflags="-s -w -X github.com/mcp-analytics/mcp-analytics/internal/cli.Version=${VERSION}" -o /out/mcp-analytics ./cmd/mcp-analytics

FROM debian:trixie-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --user-group --home-dir /data --shell /usr/sbin/nologin mcpa \
 && mkdir -p /data && chown mcpa:mcpa /data
COPY --from=build /out/mcp-analytics /usr/local/bin/mcp-analytics
USER mcpa:mcpa
# The data directory holds the SQLite catalog (when no MCPA_STORE is set),
# the demo's DuckDB files, the secret key file (when no MCPA_SECRET_KEY is
# set) and the query log's spool while the catalog is unreachable.
ENV MCPA_DATA_DIR=/data \
    MCPA_LISTEN=0.0.0.0:8000 \
    MCPA_LOG_FORMAT=json
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=3s --start-period=60s --retries=3 \
  CMD curl -fsS http://127.0.0.1:8000/healthz || exit 1
# SIGTERM drains: /readyz turns 503, running calls get MCPA_SHUTDOWN_GRACE
# (25 s) to finish, the query log is flushed. Give the container longer
# than that before it is killed (docker stop -t 40, stop_grace_period).
STOPSIGNAL SIGTERM
ENTRYPOINT ["mcp-analytics"]
CMD ["serve"]
