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
const modelFace = 'Import the model through its face, main/model/index.ts (not its internals).';

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
  // Layers (README "Architecture"): common and base at the bottom, then the
  // model, then the studio core, then the front doors (cli, server, electron).
  // A layer imports only downward; the model is reached only through its face,
  // main/model/index.ts. The benchmarks measure internals and may reach in.
  {
    files: ['main/**/*.ts'],
    ignores: ['main/electron/**', 'main/bench/**', 'main/model/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [noElectron],
          patterns: [{ group: ['**/model/*', '!**/model/index'], message: modelFace }],
        },
      ],
    },
  },
  {
    files: ['main/model/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [noElectron],
          patterns: [
            {
              group: ['**/core', '**/core/*', '**/cli/*', '**/server/*', '**/electron/*', '**/bench/*'],
              message: 'The model is a lower layer: it imports only main/common and main/base.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['main/base/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [noElectron],
          patterns: [
            {
              group: [
                '**/core',
                '**/core/*',
                '**/model',
                '**/model/*',
                '**/cli/*',
                '**/server/*',
                '**/electron/*',
              ],
              message: 'main/base is the bottom layer: it imports only Node and main/common.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['main/core/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [noElectron],
          patterns: [
            { group: ['**/model/*', '!**/model/index'], message: modelFace },
            {
              group: ['**/cli/*', '**/server/*', '**/electron/*', '**/bench/*'],
              message:
                'The studio core sits below the front doors (cli, server, electron) and never imports them.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['main/common/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [noElectron],
          patterns: ['node:*', '../core/*', '../model/*', '../model', '../server/*', '../base/*', '../cli/*'],
        },
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
