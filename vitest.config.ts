import { createRequire } from "node:module";
import { defineConfig } from "vitest/config";

const require = createRequire(import.meta.url);

export default defineConfig({
  resolve: {
    // graphql 16 ships CJS (main) and ESM (module) builds. Node loads the CJS one for every
    // dependency (@graphql-tools, Apollo); Vite would hand our sources the ESM one, and graphql
    // refuses objects from "another module or realm". Pin everything to the build Node uses.
    alias: [{ find: /^graphql$/, replacement: require.resolve("graphql") }],
  },
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Suites start real servers (emulator, gateway, child processes) on loopback ports;
    // files run in parallel workers, tests inside a file run in order.
    pool: "forks",
  },
});
