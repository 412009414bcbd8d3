// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

// Layering is enforced here, not by goodwill (see ../shared/design.md):
// - only electron/main and electron/preload may import `electron`;
// - electron/engine imports neither `electron` nor the renderer;
// - the renderer imports nothing from electron/ but types from electron/api and the
//   dependency-free electron/shared (values too: sizes, state groups, enums, the CSP);
// - electron/shared imports nothing at all, so the renderer can bundle it as it is.

const ELECTRON_ONLY = {
  name: 'electron',
  message: 'Only electron/main and electron/preload may import electron: keep this module runnable in plain Node.',
};
const SHARED_IMPORTS_NOTHING = 'electron/shared is dependency-free (the renderer bundles it as it is): no imports of any kind, not even types.';

const NO_RENDERER = {
  group: ['**/renderer/**'],
  message: 'The engine and the transports never import the renderer.',
};

export default tseslint.config(
  {
    ignores: ['node_modules/**', '.vite/**', 'dist/**', 'out/**', '.tools/**', 'test-results/**', 'test/fixtures/.cache/**', 'test/unit/lint-fixtures/**', 'playwright-report/**', 'renderer/src/display/novnc.d.ts'],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node }, ecmaVersion: 2023, sourceType: 'module' },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      '@typescript-eslint/no-explicit-any': 'error',
      'no-empty': ['error', { allowEmptyCatch: true }],
    },
  },
  {
    files: ['electron/engine/**', 'electron/api/**', 'electron/server/**', 'electron/cli/**'],
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', { paths: [ELECTRON_ONLY], patterns: [NO_RENDERER] }],
    },
  },
  {
    files: ['electron/engine/**'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: [ELECTRON_ONLY],
          patterns: [
            NO_RENDERER,
            { group: ['**/main/**', '**/preload/**', '**/server/**', '**/cli/**'], message: 'The engine sits below the shells and transports; it must not import them.' },
          ],
        },
      ],
    },
  },
  {
    files: ['electron/shared/**'],
    rules: {
      'no-restricted-syntax': [
        'error',
        { selector: 'ImportDeclaration', message: SHARED_IMPORTS_NOTHING },
        { selector: 'ExportAllDeclaration', message: SHARED_IMPORTS_NOTHING },
        { selector: 'ExportNamedDeclaration[source]', message: SHARED_IMPORTS_NOTHING },
        { selector: 'ImportExpression', message: SHARED_IMPORTS_NOTHING },
        { selector: "CallExpression[callee.name='require']", message: SHARED_IMPORTS_NOTHING },
        { selector: 'TSImportType', message: SHARED_IMPORTS_NOTHING },
      ],
    },
  },
  {
    files: ['renderer/**'],
    languageOptions: { globals: { ...globals.browser } },
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: [ELECTRON_ONLY],
          patterns: [
            {
              group: ['**/electron/api/**', '**/electron/api'],
              allowTypeImports: true,
              message: 'The renderer may import only types from electron/api (use `import type`).',
            },
            {
              // Every folder of electron/ but api (types, above) and shared (gitignore-style
              // negations of the folder), so a new folder there is closed to the renderer by default.
              group: ['**/electron/*', '!**/electron/api', '!**/electron/shared', 'node:*'],
              message: 'The renderer talks only to the API client; it never imports Node or main-process code (electron/shared is the one exception).',
            },
          ],
        },
      ],
    },
  },
);
