# The bot's image. `docker compose up` runs it with PostgreSQL and Redis.
# Build stage: everything `npm run build` needs (tsconfig.build.json: src, commands, migrations,
# scripts/migrate.ts), compiled to dist/.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY commands ./commands
COPY migrations ./migrations
COPY scripts/migrate.ts ./scripts/migrate.ts
RUN npm run build

# Runtime stage: production dependencies and the compiled code only. Besides the bot it runs the
# compiled scripts: `node dist/scripts/migrate.js` and `node dist/commands/deploy.js`.
FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
# tsx (a development dependency) runs the TypeScript scripts on a developer's machine; nothing here
# runs TypeScript, so production dependencies are all it takes.
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
USER node
# The same command as `npm start` after its build step.
CMD ["node", "--optimize-for-size", "dist/src/main.js"]
