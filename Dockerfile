# Image of the killboard core: one image for every service of docker-compose.yml (workers, HTTP
# server, R2Z2 listener, migrations); the service's command picks the role.
# Build: docker build -t killboard-core .

ARG BUN_VERSION=1.4

# Production dependencies only, exactly as locked.
FROM oven/bun:${BUN_VERSION} AS deps
WORKDIR /app
COPY package.json bun.lock ./
RUN bun install --frozen-lockfile --production

FROM oven/bun:${BUN_VERSION}
WORKDIR /app
ENV NODE_ENV=production
# Bun's allocator keeps freed memory for reuse instead of handing it back to the OS 100 ms later and
# faulting it in again (README, "Memory allocator"); set MIMALLOC_PURGE_DELAY=100 to restore Bun's default.
ENV MIMALLOC_PURGE_DELAY=-1
COPY --from=deps /app/node_modules ./node_modules
COPY --chown=bun:bun . .
USER bun
# Overridden per service in docker-compose.yml.
CMD ["bun", "queue"]
