// Builds the operator portal into portal/dist. Run from the repository root with
// `npm run build:portal`; CMake (portal/portal.cmake) then embeds dist/ into the binary.
// `npm run dev:portal` serves it with the API proxied to TETHER_URL (default 127.0.0.1:8080).
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

const root = fileURLToPath(new URL('.', import.meta.url));
const api = process.env.TETHER_URL ?? 'http://127.0.0.1:8080';

export default defineConfig({
  root,
  base: '/portal/',
  plugins: [react()],
  // No network at runtime: every asset is served by Tether itself.
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    assetsDir: 'assets',
    sourcemap: false,
    reportCompressedSize: false,
    // Tether's CSP forbids inline scripts and data: URLs; keep every asset a file.
    assetsInlineLimit: 0,
  },
  server: {
    proxy: {
      '/api': api,
      '/oauth': api,
    },
  },
});
