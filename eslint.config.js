// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', 'out/', '.cache/', 'test-results/', 'renderer/dist/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', URL: 'readonly', fetch: 'readonly', AbortSignal: 'readonly', TextEncoder: 'readonly', TextDecoder: 'readonly', performance: 'readonly' },
    },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // The pure model may not reach Node, the network or our other folders.
    files: ['app/siot/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['node:*', '../*', '@nats-io/*'], message: 'app/siot is pure: no I/O and nothing of ours outside app/siot' }] }],
    },
  },
  {
    // DESIGN.md §6: the renderer reaches the main process only through the
    // client API, and may use the pure model; never Node or Electron.
    files: ['renderer/**/*.ts'],
    ignores: ['renderer/vite.config.ts'],
    languageOptions: { globals: { window: 'readonly', document: 'readonly', requestAnimationFrame: 'readonly', EventSource: 'readonly', Blob: 'readonly', HTMLElement: 'readonly', MessageEvent: 'readonly', Response: 'readonly' } },
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            { regex: '^(node:|electron$|serialport|@nats-io/)', message: 'the renderer never touches Node, Electron or NATS directly; go through the client API' },
            { regex: '/app/(?!siot/|client/)', message: 'the renderer imports only app/siot and the client API types (app/client)' },
            { regex: '/app/client/', allowTypeImports: true, message: 'the renderer imports only types from app/client; its transport is renderer/src/lib/client.ts' },
          ],
        },
      ],
    },
  },
  {
    // DESIGN.md §5-6: Electron stays in the two thin entry files.
    files: ['app/**/*.ts'],
    ignores: ['app/main/main.ts', 'app/main/preload.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', { paths: [{ name: 'electron', message: 'only app/main/main.ts and app/main/preload.ts import electron; pass what you need in (see app/main/electron-like.ts)' }] }],
    },
  },
);
