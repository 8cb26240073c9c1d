/** Runs the real worker entry (src/worker.ts through tsx's loader) as a child process, as `npm run worker` does. */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { TEST_CREDENTIALS_KEY } from './accounts';

export interface WorkerProcess {
	pid: number;
	/** stdout: the worker's JSON log. */
	output(): string;
	/** stderr, kept apart so it cannot pass for log lines. */
	errors(): string;
	/** Resolves with the exit code once the process has ended. */
	exited: Promise<number | null>;
	kill(signal: NodeJS.Signals): void;
}

export function startWorkerProcess(env: Record<string, string>, cwd = process.cwd()): WorkerProcess {
	const root = path.resolve(import.meta.dirname, '../..');
	let stdout = '';
	let stderr = '';
	// Node itself with tsx's loader, not the tsx CLI: the CLI runs the worker in a child process
	// that a SIGKILL to the CLI leaves running (an orphan still taking jobs), so a crash test
	// would kill nothing. Here the signal reaches the worker itself.
	const loader = pathToFileURL(path.join(root, 'node_modules/tsx/dist/loader.mjs')).href;
	const child = spawn(process.execPath, ['--import', loader, path.join(root, 'src/worker.ts')], {
		cwd,
		// The same credentials key as the test and its app server, whatever DATA_DIR holds.
		env: { ...process.env, LOG_LEVEL: 'info', CREDENTIALS_KEY: TEST_CREDENTIALS_KEY, ...env },
		stdio: ['ignore', 'pipe', 'pipe']
	});
	child.stdout.on('data', (d) => (stdout += d));
	child.stderr.on('data', (d) => (stderr += d));
	const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
	return {
		pid: child.pid ?? 0,
		output: () => stdout,
		errors: () => stderr,
		exited,
		kill: (signal) => {
			if (child.exitCode === null && child.signalCode === null) child.kill(signal);
		}
	};
}
