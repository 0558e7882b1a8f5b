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
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Suites start real servers (emulator, gateway, child processes) on loopback ports;
    // files run in parallel workers, tests inside a file run in order.
    pool: "forks",
    projects: [
      // npm test: everything a fresh machine with Node, npm and Redis can run.
      { extends: true, test: { name: "specs", include: ["test/**/*.test.ts"], exclude: ["test/browser/**", "node_modules/**"] } },
      // npm run test:browser: GraphiQL in Debian's Chromium (playwright-core drives it). A fresh
      // machine has no browser, so it is a suite of its own; it fails, never skips, without one,
      // and CI (.ci/run) installs Chromium and runs it after npm test.
      { extends: true, test: { name: "browser", include: ["test/browser/**/*.test.ts"] } },
    ],
  },
});
