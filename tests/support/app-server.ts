/**
 * Runs the production build (`build/index.js`, made by `npm run build`) as a child process on its
 * own database and port, for HTTP tests of the JSON contract.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { freePort } from '../../src/lib/server/db/embedded';
import { TEST_CREDENTIALS_KEY } from './accounts';

export interface AppServer {
	url: string;
	/** Everything the server wrote to stdout/stderr so far (its structured log). */
	output(): string;
	stop(): Promise<void>;
}

export async function startAppServer(databaseUrl: string, env: Record<string, string> = {}): Promise<AppServer> {
	// BUILD_DIR lets parallel work test its own copy of the build while someone else rebuilds.
	const entry = path.resolve(process.env.BUILD_DIR ?? 'build', 'index.js');
	if (!fs.existsSync(entry)) throw new Error('No production build: run `npm run build` before the HTTP tests.');
	const port = await freePort();
	let output = '';
	const child: ChildProcess = spawn(process.execPath, [entry], {
		env: {
			...process.env,
			NODE_ENV: 'production',
			DATABASE_URL: databaseUrl,
			PORT: String(port),
			HOST: '127.0.0.1',
			ORIGIN: `http://127.0.0.1:${port}`,
			LOG_LEVEL: 'info',
			BODY_SIZE_LIMIT: 'Infinity',
			// Production requires a key; the fixed test key lets a test decrypt what the server stored.
			CREDENTIALS_KEY: TEST_CREDENTIALS_KEY,
			...env
		},
		stdio: ['ignore', 'pipe', 'pipe']
	});
	child.stdout?.on('data', (d) => (output += d));
	child.stderr?.on('data', (d) => (output += d));
	const url = `http://127.0.0.1:${port}`;

	const deadline = Date.now() + 20_000;
	for (;;) {
		if (child.exitCode !== null) throw new Error(`App server exited early:\n${output}`);
		try {
			const res = await fetch(`${url}/health`);
			if (res.ok) break;
		} catch {
			// not listening yet
		}
		if (Date.now() > deadline) {
			child.kill('SIGKILL');
			throw new Error(`App server did not become healthy:\n${output}`);
		}
		await new Promise((r) => setTimeout(r, 100));
	}

	return {
		url,
		output: () => output,
		stop: () =>
			new Promise<void>((resolve) => {
				if (child.exitCode !== null) return resolve();
				child.once('exit', () => resolve());
				child.kill('SIGTERM');
				setTimeout(() => child.kill('SIGKILL'), 5000).unref();
			})
	};
}
