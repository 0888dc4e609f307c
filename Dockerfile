# steppewatch: the same steps as the README's Quick start (npm ci builds dist/, then the worker).

# --- build: native better-sqlite3 and the TypeScript compile happen here only ---
FROM node:22-bookworm-slim AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY . .
# `npm ci` runs the `prepare` script, which compiles src/ to dist/.
RUN npm ci --no-audit --no-fund \
 && npm prune --omit=dev --no-audit --no-fund

# --- runtime: compiled code, production modules, non-root ---
FROM node:22-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build --chown=node:node /app/package.json /app/package-lock.json ./
COPY --from=build --chown=node:node /app/node_modules ./node_modules
COPY --from=build --chown=node:node /app/dist ./dist
COPY --from=build --chown=node:node /app/config ./config
RUN mkdir -p /app/data && chown node:node /app/data
USER node
VOLUME ["/app/data"]
# The worker stops cleanly on SIGTERM (docker stop).
ENTRYPOINT ["node", "dist/cli.js"]
CMD ["run"]
