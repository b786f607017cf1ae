// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import reactHooks from 'eslint-plugin-react-hooks';
import globals from 'globals';

// Import boundaries (VS Code style): common/ is shared by every process and may
// not reach into Node-only or Electron code; the studio core never imports
// Electron; the renderer only talks to the core through the API contract.
const noElectron = {
  name: 'electron',
  message: 'The studio core has no Electron imports (main/electron only).',
};

export default tseslint.config(
  { ignores: ['node_modules', 'out', 'dist', 'test-artifacts', 'bench-results', 'bin'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'error',
    },
  },
  {
    files: ['main/**/*.ts'],
    ignores: ['main/electron/**'],
    rules: { 'no-restricted-imports': ['error', { paths: [noElectron] }] },
  },
  {
    files: ['main/common/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { paths: [noElectron], patterns: ['node:*', '../core/*', '../model/*', '../server/*'] },
      ],
    },
  },
  {
    files: ['renderer/**/*.{ts,tsx}'],
    plugins: { 'react-hooks': reactHooks },
    languageOptions: { globals: { ...globals.browser } },
    rules: {
      ...reactHooks.configs.recommended.rules,
      'no-restricted-imports': [
        'error',
        {
          paths: [noElectron],
          patterns: ['node:*', '**/main/core/**', '**/main/model/**', '**/main/server/**'],
        },
      ],
    },
  },
);
