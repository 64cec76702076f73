// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { importBoundaries } from './eslint/import-boundaries.js';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'charts/**', 'coverage/**', '**/*.wasm', 'src/ml/kernels/assembly/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-restricted-syntax': ['error', { selector: 'TSEnumDeclaration', message: 'Use `as const` objects and unions, not enums.' }],
    },
  },
  {
    // Product code never imports test code; src/ (the images) imports nothing outside src/.
    plugins: { kennel: importBoundaries },
    rules: { 'kennel/import-boundaries': 'error' },
  },
  {
    files: ['src/operator/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: ['**/worker/**', '**/serve/**', '**/ml/**', '@tensorflow/*'] }],
    },
  },
  {
    files: ['src/worker/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: ['**/operator/**', '**/serve/**'] }] },
  },
  {
    files: ['src/serve/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: ['**/operator/**', '**/worker/**'] }] },
  },
  {
    files: ['src/shared/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: ['**/operator/**', '**/worker/**', '**/serve/**', '**/ml/**'] }] },
  },
);
