# Eddy's image: the control plane and its workers (`eddy start`), or one replica (`eddy worker`).
# deploy/kubernetes/ runs it as `eddy:<package.json version>`: docker build -t eddy:0.1.0 .
# Point it at a cluster with KAFKA_BROKERS; the image carries no Kafka broker of its own.

FROM node:20-bookworm AS build
WORKDIR /app
# isolated-vm compiles from source: the full node image has python3, make and g++.
# --ignore-scripts, then rebuild: npm ci would run the package's own `prepare` (npm run build) before
# the sources below are there; `npm rebuild` runs only the dependencies' install scripts.
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund && npm rebuild
# Everything `npm run build` reads: tsconfig.json's include (runtime, sdk, test/bench) and the dashboard.
COPY tsconfig.json ./
COPY runtime ./runtime
COPY sdk ./sdk
COPY test/bench ./test/bench
COPY dashboard ./dashboard
RUN npm run build && npm prune --omit=dev --ignore-scripts

FROM node:20-bookworm-slim
ENV NODE_ENV=production EDDY_HOST=0.0.0.0 EDDY_DATA_DIR=/data
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY bin ./bin
COPY sdk ./sdk
COPY functions ./functions
RUN mkdir -p /data && chown node:node /data
USER node
EXPOSE 8080
ENTRYPOINT ["node", "--no-node-snapshot", "dist/runtime/cli/main.js"]
CMD ["start"]
