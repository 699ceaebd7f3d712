import { vitePlugin as remix } from '@remix-run/dev'
import path from 'node:path'
import { defineConfig } from 'vite'

declare module '@remix-run/node' {
  interface Future {
    v3_singleFetch: true
  }
}

export default defineConfig({
  plugins: [
    remix({
      ignoredRouteFiles: ['**/*.test.{ts,tsx}'],
      future: {
        v3_fetcherPersist: true,
        v3_relativeSplatPath: true,
        v3_throwAbortReason: true,
        v3_singleFetch: true,
        v3_lazyRouteDiscovery: true,
      },
    }),
  ],
  resolve: { alias: { '~': path.resolve(import.meta.dirname, 'app') } },
  server: { hmr: { port: Number(process.env.HMR_PORT ?? 24678) } },
  build: { target: 'es2022' },
})
