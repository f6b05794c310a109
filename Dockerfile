# syntax=docker/dockerfile:1
# netfence: build with the full toolchain, run with production dependencies only.

FROM node:24-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
# --ignore-scripts: the image already has Node 24, so the `node` dev dependency that brings
# Node 24 to developer machines is not installed (its binary would be dead weight here).
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN node node_modules/typescript/bin/tsc -p tsconfig.build.json

FROM node:24-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

FROM node:24-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY package.json ./
# Nothing is written at run time: certificates are read from the API (self-managed, the
# default of deploy/) or mounted (cert-manager), the config is a mounted ConfigMap, logs go to
# stdout, so the root filesystem can be read-only.
USER 65532:65532
EXPOSE 8443
ENTRYPOINT ["node", "/app/dist/cli/main.js"]
CMD ["serve", "--cert-dir", "/etc/netfence/tls", "--config", "/etc/netfence/config/config.yaml"]
