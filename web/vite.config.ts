import { defineConfig } from 'vite';

// The UI is served by `tessera serve --web web/dist`; during development `npm run dev` serves it with hot
// reload and forwards the API to a tessera server on the default port.
export default defineConfig({
  base: './',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // OpenLayers alone is ~500 kB; the viewer screens load it on demand, so the warning would only be noise.
    chunkSizeWarningLimit: 1200,
  },
  server: {
    port: 5173,
    proxy: {
      '/api': { target: 'http://127.0.0.1:8080', changeOrigin: false },
    },
  },
});
