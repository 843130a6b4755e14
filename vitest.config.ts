import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["packages/*/test/**/*.test.ts", "examples/*/test/**/*.test.ts", "bench/test/**/*.test.ts"],
    // Tests start real servers, sandboxes and SQLite files; forks keep each file's processes apart.
    pool: "forks",
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Two cores: more parallel files only make the timing-sensitive ones flaky.
    maxWorkers: 2,
    // Type tests (`*.test-d.ts`: defineFunction, ctx, the client) are checked by tsc, not run. One
    // tsc over the SDK's test project: a few seconds, against the built `eddy` (npm test builds first).
    typecheck: {
      enabled: true,
      include: ["packages/eddy/test/**/*.test-d.ts"],
      tsconfig: "packages/eddy/test/tsconfig.json",
    },
  },
});
