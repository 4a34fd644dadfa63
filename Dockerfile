# syntax=docker/dockerfile:1
#
# Kruimel in a container: `docker build -t kruimel .` (BuildKit, the default
# builder since Docker 23). See "Run with Docker" in docs/operations.md.

# The toolchain of the development machines and CI (`rustc --version`);
# raise the two together.
ARG RUST_VERSION=1.95.0

# ---- build -------------------------------------------------------------------
FROM rust:${RUST_VERSION}-bookworm AS build
WORKDIR /src
COPY . .
# Dependency caching: BuildKit cache mounts, not a dummy main. The dummy-main
# trick needs stub sources for both the library and the binary target, and
# touching the real ones afterwards so cargo does not keep the stubs' build;
# cache mounts keep the crates.io registry and target/ between builds, so a
# source change recompiles only kruimel, and neither ends up in a layer.
# (A CI runner that builds on fresh machines gains from neither without a
# persistent builder.)
# .ci/check-docker runs this same build from the same build context. The
# binary is copied out of the cache mount without its DWARF line tables (the
# release profile keeps them for profiling; 40 of its 50 MB); symbols stay,
# so a panic backtrace still names functions.
RUN --mount=type=cache,target=/usr/local/cargo/registry,sharing=locked \
    --mount=type=cache,target=/src/target,sharing=locked \
    cargo build --release --locked \
    && mkdir -p /out/data \
    && strip --strip-debug -o /out/kruimel target/release/kruimel

# ---- runtime -----------------------------------------------------------------
# Distroless cc: glibc, libgcc_s and libm are all the binary links
# (`ldd target/release/kruimel`; mimalloc and rustls are compiled in), the
# CA certificates that rediss:// URLs are checked against, and no shell or
# package manager. Debian 12 here, bookworm above: the same glibc.
# `:nonroot` runs as uid/gid 65532. Pin a digest (`@sha256:…`) in production
# to make rebuilds reproducible.
FROM gcr.io/distroless/cc-debian12:nonroot

ARG VERSION=""
ARG REVISION=""
ARG CREATED=""
LABEL org.opencontainers.image.title="Kruimel" \
      org.opencontainers.image.description="Privacy-first web analytics server: aggregate counts only, Plausible-compatible ingest" \
      org.opencontainers.image.licenses="EUPL-1.2" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.base.name="gcr.io/distroless/cc-debian12:nonroot"

COPY --from=build /out/kruimel /usr/local/bin/kruimel
# An empty directory owned by the runtime user: a named volume mounted here
# starts with this owner. A bind mount must be writable by uid 65532.
COPY --from=build --chown=65532:65532 /out/data/ /var/lib/kruimel/

# Configuration is by environment (KRUIMEL_<TABLE>__<KEY>), overlaid on the
# file named by KRUIMEL_CONFIG when one is mounted; these values win over that
# file. There are no sites by default: the server then starts, reports ready
# and answers every beacon 202 with `X-Kruimel-Dropped: unknown_site`. Give
# sites with KRUIMEL_SITES='[{ id = "…", tokens = ["blake3:…"] }]' or in the file.
# Logs are JSON (one object a line, no colour codes) for log collectors.
# The admin listener binds every interface so Prometheus in another container
# can scrape it: keep port 9090 unpublished, and set
# KRUIMEL_SERVER__ADMIN_TOKENS so /metrics (every site's counts) and
# POST /reload need a token; without one, /reload answers loopback only.
ENV KRUIMEL_SERVER__LISTEN=0.0.0.0:8080 \
    KRUIMEL_SERVER__ADMIN_LISTEN=0.0.0.0:9090 \
    KRUIMEL_SERVER__DATA_DIR=/var/lib/kruimel \
    KRUIMEL_LOG__FORMAT=json

USER 65532:65532
VOLUME ["/var/lib/kruimel"]
# 8080: /api/event, stats API. 9090: /metrics, /healthz, /readyz (keep it
# off the public network).
EXPOSE 8080 9090

# On SIGTERM the server turns unready, stops accepting, drains requests for up
# to server.drain_timeout_ms (10 s by default), writes a final flush and exits
# 0. Docker's default grace period is also 10 s: give `docker stop -t 30` or
# `stop_grace_period: 30s` so the final flush is never cut off by SIGKILL.
STOPSIGNAL SIGTERM

# No shell or curl here: the binary probes itself. `kruimel healthcheck`
# reads the same configuration (environment, KRUIMEL_CONFIG), sends
# GET /healthz to server.admin_listen (0.0.0.0 and :: become loopback) with a
# 2 s deadline, and exits 0 on 200, 1 otherwise.
HEALTHCHECK --interval=15s --timeout=5s --start-period=10s --retries=3 \
    CMD ["/usr/local/bin/kruimel", "healthcheck"]

ENTRYPOINT ["/usr/local/bin/kruimel"]
CMD ["serve"]
