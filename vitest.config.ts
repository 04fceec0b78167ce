import path from "node:path";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const root = path.dirname(fileURLToPath(import.meta.url));

/**
 * Two projects, one command (`npx vitest run`):
 * - unit: pure functions, no database, no Redis.
 * - integration: real PostgreSQL and Redis. Every test file runs in its own process (forks,
 *   isolated) and gets its own database and Redis key prefix from tests/helpers/setup-integration.ts,
 *   which sets process.env before the file imports lib/ (lib/env.ts parses it once at import).
 */
export default defineConfig({
  resolve: {
    // tsconfig paths: "@/*" -> "./*"
    alias: [{ find: /^@\//, replacement: `${root}/` }],
  },
  test: {
    environment: "node",
    pool: "forks",
    isolate: true,
    // Integration files start worker processes of their own: two cores, two files at a time.
    maxWorkers: 2,
    teardownTimeout: 20_000,
    projects: [
      {
        extends: true,
        test: {
          name: "unit",
          include: ["tests/unit/**/*.test.ts"],
          testTimeout: 10_000,
        },
      },
      {
        extends: true,
        test: {
          name: "integration",
          include: ["tests/integration/**/*.test.ts"],
          setupFiles: ["tests/helpers/setup-integration.ts"],
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});
