import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Suites start real servers (emulator, gateway, child processes) on loopback ports;
    // files run in parallel workers, tests inside a file run in order.
    pool: "forks",
  },
});
