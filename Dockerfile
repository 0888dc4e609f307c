# steppewatch: the same steps as the README's Quick start (npm ci builds dist/, then the worker).

# --- build: native better-sqlite3 and the TypeScript compile happen here only ---
FROM node:22-bookworm-slim AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY . .
# `npm ci` runs the `prepare` script, which compiles src/ to dist/; then the dev tools go.
RUN npm ci --no-audit --no-fund \
 && npm prune --omit=dev --no-audit --no-fund

# --- runtime: compiled code and production modules, no compilers, non-root ---
FROM node:22-bookworm-slim
# tini as PID 1: signals reach node (SIGTERM stops gracefully, SIGHUP reloads), zombies are reaped.
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini \
 && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production \
    HTTP_HOST=0.0.0.0 \
    HTTP_PORT=8080
WORKDIR /app
COPY --from=build --chown=node:node /app/package.json /app/package-lock.json ./
COPY --from=build --chown=node:node /app/node_modules ./node_modules
COPY --from=build --chown=node:node /app/dist ./dist
COPY --from=build --chown=node:node /app/config ./config
RUN mkdir -p /app/data && chown node:node /app/data
USER node
VOLUME ["/app/data"]
# /healthz, /readyz and /metrics (Prometheus); with http.page, the operator page at /, which needs
# HTTP_AUTH_USER and HTTP_AUTH_PASSWORD here (it listens beyond loopback).
EXPOSE 8080
# The slim image has no curl: node asks /healthz itself.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.HTTP_PORT||8080)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# The worker stops within shutdown.grace (default 8 s) of SIGTERM, inside docker stop's 10 s.
ENTRYPOINT ["tini", "--", "node", "dist/cli.js"]
CMD ["run"]
