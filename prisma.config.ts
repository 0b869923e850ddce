import { defineConfig } from 'prisma/config';

// Prisma 7 reads no .env: the URL comes from the environment (used only by Prisma's own CLI;
// the server applies migrations itself, see src/db/migrate.ts).
export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations', seed: 'tsx prisma/seed.ts' },
  datasource: { url: process.env.DATABASE_URL ?? '' },
});
