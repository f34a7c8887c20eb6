// Playwright drives Debian's chromium-headless-shell (no browser is downloaded) against
// `cascade runserver` on the example project; run.sh prepares the database and the port.
const { defineConfig } = require('@playwright/test');

const url = process.env.CASCADE_BROWSER_URL;
if (!url) throw new Error('run the browser tests through tests/browser/run.sh');

module.exports = defineConfig({
  testDir: '.',
  timeout: 30000,
  workers: 1,              // one server and one database: the flows run in order
  fullyParallel: false,
  retries: 0,
  reporter: [['list']],
  outputDir: process.env.CASCADE_BROWSER_OUTPUT || 'test-results',
  use: {
    baseURL: url,
    screenshot: 'only-on-failure',
    launchOptions: {
      executablePath: process.env.CASCADE_BROWSER || '/usr/bin/chromium-headless-shell',
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking',
             '--disable-component-update', '--disable-sync', '--no-first-run'],
    },
  },
  webServer: {
    command: process.env.CASCADE_BROWSER_SERVER,
    url: url + '/',
    reuseExistingServer: false,
    timeout: 30000,
    stdout: 'ignore',
    stderr: 'pipe',
  },
});
