import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { defineConfig } from 'vitest/config';
import react from '@vitejs/plugin-react';

const distDir = resolve(import.meta.dirname, 'dist');

/** Every file under dir, as paths. */
function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? walk(p) : [p];
  });
}

/**
 * Writes name.gz and name.br beside each text file of the build, once, at their best settings:
 * the server hands them out by Accept-Encoding (signaling/web.go) instead of compressing every
 * response again. Both come from Node's own zlib; a variant that saves nothing is left out.
 */
function precompress(): void {
  for (const file of walk(distDir)) {
    if (!/\.(js|css|html|svg|json|txt)$/.test(file)) continue;
    const plain = readFileSync(file);
    if (plain.length < 1024) continue;
    const gz = gzipSync(plain, { level: 9 });
    const br = brotliCompressSync(plain, {
      params: {
        [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT,
        [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY,
        [constants.BROTLI_PARAM_SIZE_HINT]: plain.length,
      },
    });
    if (gz.length < plain.length) writeFileSync(`${file}.gz`, gz);
    if (br.length < plain.length) writeFileSync(`${file}.br`, br);
  }
}

export default defineConfig({
  base: '/',
  plugins: [
    react(),
    {
      name: 'parley-dist',
      apply: 'build',
      closeBundle() {
        precompress();
        // Vite empties dist/ before a build; go:embed needs dist/.gitkeep back so that a
        // fresh clone (and go build ./...) keeps compiling.
        writeFileSync(join(distDir, '.gitkeep'), '');
      },
    },
  ],
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: false },
  test: { include: ['test/**/*.test.ts'], environment: 'node' },
});
