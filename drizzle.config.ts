// drizzle-kit configuration: `bun run db:generate` writes SQL migrations for server/db/schema.ts into
// drizzle/; `bun run db:migrate` applies them (server/db/migrate.ts).
import { defineConfig } from "drizzle-kit";

export default defineConfig({
  dialect: "postgresql",
  schema: "./server/db/schema.ts",
  out: "./drizzle",
  dbCredentials: { url: process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres" },
});
