import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { defineConfig } from 'vitest/config';
import react from '@vitejs/plugin-react';

export default defineConfig({
  base: '/',
  plugins: [
    react(),
    {
      // Vite empties dist/ before a build; go:embed needs dist/.gitkeep back so that a
      // fresh clone (and go build ./...) keeps compiling.
      name: 'parley-keep-dist',
      closeBundle() {
        writeFileSync(resolve(import.meta.dirname, 'dist/.gitkeep'), '');
      },
    },
  ],
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: false },
  test: { include: ['test/**/*.test.ts'], environment: 'node' },
});
