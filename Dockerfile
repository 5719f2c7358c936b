# The bot's image. `docker compose up` runs it with PostgreSQL and Redis.
FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY tsconfig.json mikro-orm.config.ts ./
COPY src ./src
COPY commands ./commands
COPY migrations ./migrations
COPY scripts ./scripts
USER node
CMD ["npm", "start"]
