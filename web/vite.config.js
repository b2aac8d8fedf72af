// Multi-page build: index.html (editor + landing) and admin/index.html land at the root of
// dist/, which the server serves as / and /admin/.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const page = (p) => fileURLToPath(new URL(p, import.meta.url));

export default defineConfig({
  base: '/',
  appType: 'mpa',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: true,
    chunkSizeWarningLimit: 1024,
    rollupOptions: {
      input: {
        editor: page('./index.html'),
        admin: page('./admin/index.html'),
      },
    },
  },
  server: {
    // `npx vite` during development: proxy the server's endpoints to a running `./collab run`.
    proxy: {
      '/yjs': { target: 'ws://127.0.0.1:8080', ws: true },
      '/ws': { target: 'ws://127.0.0.1:8080', ws: true },
      '/admin/documents': { target: 'http://127.0.0.1:8080' },
      '/health': { target: 'http://127.0.0.1:8080' },
    },
  },
});
