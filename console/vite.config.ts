import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

/** Muster Console: built into dist/console, served by Muster at /console/ (see src/http/console). */
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/console/',
  plugins: [react()],
  // `npm run dev:console`: the console with hot reload on :5173, its API calls passed to a running
  // Muster (MUSTER_URL, http://localhost:8080 by default).
  server: { proxy: { '/v1': process.env.MUSTER_URL ?? 'http://localhost:8080' } },
  build: {
    outDir: fileURLToPath(new URL('../dist/console', import.meta.url)),
    emptyOutDir: true,
    // The page's CSP allows scripts from this origin only: no inline polyfill.
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    target: 'es2022',
    chunkSizeWarningLimit: 1000,
  },
});
