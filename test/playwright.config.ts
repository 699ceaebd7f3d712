import { defineConfig } from '@playwright/test'

const portalUrl = process.env.PORTAL_URL ?? 'http://127.0.0.1:3100'

export default defineConfig({
  testDir: './e2e',
  timeout: 90_000,
  expect: { timeout: 15_000 },
  fullyParallel: false,
  workers: 1,
  // One retry, for the machine rather than the product: the provisioner's Docker engine runs on the
  // browser's host, and each network or container it adds is an interface change that makes Chromium
  // abort the requests in flight (net::ERR_NETWORK_CHANGED, crbug.com/41465264). A real failure fails twice.
  retries: 1,
  reporter: [['list']],
  outputDir: '../.data/test-run/playwright',
  use: {
    baseURL: portalUrl,
    locale: 'en-GB',
    trace: 'retain-on-failure',
    launchOptions: {
      // Debian's Chromium; Playwright never downloads a browser here.
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    },
  },
  webServer: {
    // The production build, as it runs in production.
    // From portal/, so tsx resolves the `~/` paths of portal/tsconfig.json.
    command: 'node --import tsx server/index.ts',
    cwd: '../portal',
    url: `${portalUrl}/healthz`,
    timeout: 120_000,
    reuseExistingServer: false,
    stdout: 'pipe',
    stderr: 'pipe',
    env: { NODE_ENV: 'production', PORT: process.env.PORTAL_PORT ?? '3100', OUTBOX_POLL_MS: '300', LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' },
  },
})
