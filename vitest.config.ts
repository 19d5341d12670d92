import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  // Compiles .svelte files for the component tests (test/component, jsdom).
  // It only transforms .svelte / .svelte.ts modules, which the Node tests
  // never import. No svelte.config.js: the renderer has none either.
  plugins: [svelte({ configFile: false, emitCss: false })],
  // Top-level `resolve` is the client environment's, which jsdom tests use
  // (so `svelte` resolves to its browser build, with `mount`); Node tests
  // run in the ssr environment and keep Node's conditions.
  resolve: { conditions: ['browser'] },
  test: {
    include: ['test/**/*.test.ts'],
    // Integration tests start real nats-server processes; two cores can run
    // two files at a time without starving the servers.
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
