// The lint tools for ../eslint.config.js, imported through this workspace package so that
// typescript-eslint resolves the classic TypeScript 6 installed beside it (lint/node_modules), not
// the TypeScript 7 the client is built and type-checked with: typescript-eslint 8 does not support
// TypeScript 7's native compiler yet (its peer range stops below 6.1).
export { default as js } from '@eslint/js';
export { default as reactHooks } from 'eslint-plugin-react-hooks';
export { default as globals } from 'globals';
export { default as tseslint } from 'typescript-eslint';
