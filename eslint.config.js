import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/**', 'data/**', 'bench/results/**', 'coverage/**', '.ci/cache/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: globals.node },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-imports': 'off',
    },
  },
  {
    // The dashboard page's script runs in the browser, with ECharts loaded before it.
    files: ['src/api/app-page/**/*.js'],
    languageOptions: { globals: { ...globals.browser, echarts: 'readonly' } },
  },
  {
    files: ['src/domain/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [
        { group: ['**/infra/**', '**/commands/**', '**/api/**', '**/projections/**', '**/integrations/**', '**/access/**', '**/app/**', 'node:*', 'better-sqlite3', 'koa', 'mingo'],
          message: 'domain/ is pure: it imports nothing outside domain/ (ARCHITECTURE.md)' },
      ] }],
    },
  },
  {
    files: ['src/infra/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [
        { group: ['**/commands/**', '**/api/**', '**/projections/**', '**/integrations/**', '**/access/**', '**/app/**', '**/domain/**'],
          message: 'infra/ holds ports and adapters only: it imports nothing from the layers that use it (ARCHITECTURE.md)' },
      ] }],
    },
  },
);
