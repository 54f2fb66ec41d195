// ESLint for the web client: typescript-eslint's strict, type-aware rules and the React hooks
// rules on the TypeScript; the recommended JavaScript rules on the test scripts and configs. The
// tools come through the lint workspace (lint/index.js says why). `npm run lint` runs this after
// `tsc --noEmit`, with every warning counted as a failure.
import { globals, js, reactHooks, tseslint } from 'parley-web-lint';

export default tseslint.config(
  { ignores: ['dist/', 'e2e/out/', 'node_modules/', 'lint/node_modules/'] },
  js.configs.recommended,
  {
    files: ['**/*.{ts,tsx}'],
    extends: [tseslint.configs.strictTypeChecked, tseslint.configs.stylisticTypeChecked, reactHooks.configs.flat.recommended],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
      globals: globals.browser,
    },
    rules: {
      // `onClick={() => setOpen(false)}` is how React handlers read; a void returned that way
      // confuses nobody.
      '@typescript-eslint/no-confusing-void-expression': ['error', { ignoreArrowShorthand: true }],
      // A number reads the same in any template.
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true }],
      // An empty string means "none" here (a stored link, a typed name); `||` says exactly that.
      '@typescript-eslint/prefer-nullish-coalescing': ['error', { ignorePrimitives: { string: true } }],
    },
  },
  {
    files: ['test/**/*.ts'],
    rules: {
      // In a test, a wrong `!` fails the test at once, which is what an assertion would do.
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  {
    files: ['**/*.{js,mjs}'],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: {
      // The e2e scripts run in Node, and pass functions to the page, which run in the browser.
      globals: { ...globals.node, ...globals.browser },
    },
  },
);
