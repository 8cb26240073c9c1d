/**
 * End-to-end tests against the built app, started the way people start it (`scripts/start.ts`:
 * embedded PostgreSQL, migrations, demo user, web + worker) on a fresh data directory per run.
 * Run `npx vite build` first; the start script rebuilds only when sources are newer.
 */
import fs from 'node:fs';
import path from 'node:path';
import { defineConfig } from '@playwright/test';
import { BASE_URL, DEMO, E2E_PORT, runDirectory } from './tests/e2e/support/env';

const runDir = runDirectory();
const dataDir = path.join(runDir, 'data');

// Playwright cannot download its browser here; Debian's Chromium works with the same protocol.
const executablePath =
	process.env.CHROMIUM_PATH || (fs.existsSync('/usr/bin/chromium') ? '/usr/bin/chromium' : undefined);

export default defineConfig({
	testDir: 'tests/e2e',
	fullyParallel: false,
	workers: 2,
	retries: 0,
	reporter: 'list',
	timeout: 30_000,
	expect: { timeout: 10_000 },
	use: {
		baseURL: BASE_URL,
		trace: 'retain-on-failure',
		launchOptions: {
			executablePath,
			// Root in a closed network: no sandbox, no GPU, and nothing that phones home.
			args: [
				'--no-sandbox',
				'--disable-gpu',
				'--disable-background-networking',
				'--disable-component-update',
				'--disable-sync',
				'--no-first-run'
			]
		}
	},
	projects: [
		{ name: 'setup', testMatch: /.*\.setup\.ts$/ },
		{ name: 'chromium', dependencies: ['setup'], use: { viewport: { width: 1280, height: 800 } } }
	],
	webServer: {
		// The shell outlives the app's own SIGTERM shutdown, then removes this run's directory.
		command: `trap : TERM; npx tsx scripts/start.ts & app=$!; wait $app; wait $app; rm -rf '${runDir}'`,
		url: `${BASE_URL}/health`,
		reuseExistingServer: false,
		timeout: 120_000,
		gracefulShutdown: { signal: 'SIGTERM', timeout: 20_000 },
		stdout: 'pipe',
		stderr: 'pipe',
		env: {
			PORT: String(E2E_PORT),
			HOST: '127.0.0.1',
			// Unset, as for someone running `npm start`: the start script derives it from HOST and PORT.
			ORIGIN: '',
			DATABASE_URL: '',
			DATA_DIR: dataDir,
			DEMO_PASSWORD: DEMO.password,
			LOG_LEVEL: 'warn',
			WORKER_SHUTDOWN_SECONDS: '5',
			// Every browser context signs in from 127.0.0.1: the per-IP limit would count the whole
			// suite as one person. The per-account limit stays at its default and is tested.
			LOGIN_MAX_ATTEMPTS_PER_IP: '1000',
			// Long enough to watch a local job's progress bar move, short enough for a quick test.
			LOCAL_PROVIDER_DELAY_MS: '3000'
		}
	}
});
