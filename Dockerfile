# RoboTrace server image: `docker build -t robotrace .`, then see compose.yaml and docs/DEPLOY.md.
# Not exercised by CI here (the build machine has no Docker engine); the same steps (npm ci, build, start) are.
FROM node:22-bookworm-slim AS build
WORKDIR /app
# Manifests first, so the dependency layer is reused while only sources change.
COPY package.json package-lock.json ./
COPY packages/contracts/package.json packages/contracts/
COPY packages/db/package.json packages/db/
COPY packages/storage/package.json packages/storage/
COPY packages/core/package.json packages/core/
COPY packages/sdk-ts/package.json packages/sdk-ts/
COPY apps/web/package.json apps/web/
RUN npm ci --no-audit --no-fund
COPY . .
RUN node scripts/build.mjs && npm prune --omit=dev --no-audit --no-fund

FROM node:22-bookworm-slim
ENV NODE_ENV=production HOST=0.0.0.0 PORT=3000 ROBOTRACE_DATA_DIR=/var/lib/robotrace
WORKDIR /app
# The bundle inlines the workspace packages; npm dependencies stay in node_modules.
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/apps/web/dist ./apps/web/dist
RUN mkdir -p /var/lib/robotrace && chown node:node /var/lib/robotrace
USER node
EXPOSE 3000
HEALTHCHECK --interval=15s --timeout=5s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/api/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
# `node apps/web/dist/migrate.js` is the image's `npm run db:migrate`; compose runs it once before the app.
CMD ["node", "apps/web/dist/main.js"]
