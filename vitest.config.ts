// Tests run under Bun (the production runtime) in worker threads: `bun run test`.
// Each test file isolates itself (own BullMQ prefix, own database); see test/support/.
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    pool: "threads",
    include: ["test/**/*.test.ts", "server/**/*.test.ts", "sim/**/*.test.ts", "cli/**/*.test.ts", "queue/**/*.test.ts"],
    globalSetup: ["test/support/global-setup.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    maxWorkers: 2,
  },
});
