/**
 * Facts shared by playwright.config.ts and the tests. The config runs once in the runner and
 * again in each worker; the run directory travels in an environment variable, so all of them
 * agree on one directory per run.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const E2E_PORT = 4317;
export const BASE_URL = `http://127.0.0.1:${E2E_PORT}`;

/** The seeded demo user is the first user, hence an administrator. */
export const DEMO = { email: 'demo@pixsim7.local', password: 'e2e-demo-password' };

export function runDirectory(): string {
	if (!process.env.PIXSIM_E2E_DIR) {
		const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pixsim7-e2e-'));
		// The embedded PostgreSQL runs as its own user and must be able to enter the directory.
		fs.chmodSync(dir, 0o755);
		process.env.PIXSIM_E2E_DIR = dir;
	}
	return process.env.PIXSIM_E2E_DIR;
}

/** Storage state of the user the setup project signs in. */
export const userStatePath = () => path.join(runDirectory(), 'user-state.json');
