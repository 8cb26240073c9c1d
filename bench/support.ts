/**
 * What every benchmark needs: the production build, an embedded PostgreSQL in a temp dir, the
 * server (and worker) as child processes, a registered user, and small statistics helpers.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { sql } from 'drizzle-orm';
import { connect } from '../src/lib/server/db/client';
import { freePort, startEmbeddedPostgres, type EmbeddedServer } from '../src/lib/server/db/embedded';
import { migrateDatabase } from '../src/lib/server/db/migrate';
import { registerUser } from '../src/lib/server/auth/service';
import { TEST_CREDENTIALS_KEY } from '../tests/support/accounts';

/** The build under test: BUILD_DIR (a private copy while others rebuild `build/`), else `build`. */
const serverEntry = path.join(process.env.BUILD_DIR ?? 'build', 'index.js');

/** Builds the app when there is no build yet, or when BENCH_BUILD=1. */
export function ensureBuild(): void {
	if (!fs.existsSync(serverEntry) || process.env.BENCH_BUILD === '1') {
		if (process.env.BUILD_DIR) throw new Error(`${serverEntry} is missing: build it first`);
		console.log('building the production app...');
		if (spawnSync('npx', ['vite', 'build'], { stdio: 'inherit' }).status !== 0) process.exit(1);
	}
}

export interface BenchDatabase {
	/** The temp dir holding the database (and whatever else the benchmark puts there). */
	dir: string;
	url: string;
	pg: EmbeddedServer;
	/** Stops PostgreSQL and deletes the temp dir. */
	stop(): Promise<void>;
}

export async function startBenchDatabase(): Promise<BenchDatabase> {
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pixsim7-bench-'));
	fs.chmodSync(dir, 0o755);
	// BENCH_STATEMENTS=1: pg_stat_statements on, for a bench to print what ran (bench:jobs does).
	const statements = process.env.BENCH_STATEMENTS === '1';
	const settings = statements ? ['-c', 'shared_preload_libraries=pg_stat_statements', '-c', 'pg_stat_statements.track=all'] : [];
	const pg = await startEmbeddedPostgres({ dir: path.join(dir, 'data'), persistent: false, databases: ['bench'], settings });
	const url = pg.url('bench');
	await migrateDatabase(url, path.resolve('drizzle'));
	if (statements) {
		const admin = connect(url, { max: 1 });
		await admin.db.execute(sql`create extension if not exists pg_stat_statements`);
		await admin.close();
	}
	return {
		dir,
		url,
		pg,
		async stop() {
			await pg.stop();
			fs.rmSync(dir, { recursive: true, force: true });
		}
	};
}

/** Registers a user and returns its id and a session token for `Authorization: Bearer`. */
export async function registerBenchUser(url: string, name = 'bench'): Promise<{ userId: string; token: string }> {
	const database = connect(url, { max: 2 });
	try {
		const { user, token } = await registerUser(
			database.db,
			{ email: `${name}@example.test`, username: name, password: 'bench-password' },
			{ ipAddress: '127.0.0.1', userAgent: 'bench' },
			{ SESSION_TTL_DAYS: 30 }
		);
		return { userId: user.id, token };
	} finally {
		await database.close();
	}
}

export interface BenchServer {
	base: string;
	pid: number;
	/**
	 * The server's own time for a request (its `http:request` log line's duration_ms: from the
	 * first hook to the response, body serialised but not yet sent), by the `x-request-id` the
	 * request carried. Only with `{ requestLog: true }`.
	 */
	loggedDurations: Map<string, number>;
	stop(): Promise<void>;
}

/**
 * Starts `build/index.js` (or BUILD_DIR's) as in production. BENCH_PROFILE=dir writes its V8 CPU profile there
 * (open it in Chrome DevTools).
 */
export async function startBenchServer(
	databaseUrl: string,
	env: Record<string, string> = {},
	options: { requestLog?: boolean } = {}
): Promise<BenchServer> {
	const port = await freePort();
	const profile = process.env.BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`] : [];
	const server = spawn(process.execPath, [...profile, serverEntry], {
		env: {
			...process.env,
			NODE_ENV: 'production',
			DATABASE_URL: databaseUrl,
			PORT: String(port),
			HOST: '127.0.0.1',
			LOG_LEVEL: 'info',
			// Production requires one; the tests' fixed key, as the worker started by a bench has it.
			CREDENTIALS_KEY: TEST_CREDENTIALS_KEY,
			...env
		},
		// The server logs every request, as in production; its lines go nowhere (or to the duration
		// reader) so the terminal is not the bottleneck.
		stdio: ['ignore', options.requestLog ? 'pipe' : 'ignore', 'inherit']
	});
	const loggedDurations = new Map<string, number>();
	if (server.stdout) {
		readline.createInterface({ input: server.stdout }).on('line', (line) => {
			if (!line.includes('"http:request"')) return;
			const entry = JSON.parse(line) as { request_id?: string; duration_ms?: number };
			if (entry.request_id && entry.duration_ms !== undefined) loggedDurations.set(entry.request_id, entry.duration_ms);
		});
	}
	const base = `http://127.0.0.1:${port}`;
	for (let i = 0; ; i++) {
		if (server.exitCode !== null) throw new Error('server exited during start-up');
		try {
			if ((await fetch(`${base}/health`)).ok) break;
		} catch {
			// not up yet
		}
		if (i > 200) throw new Error('server did not start');
		await new Promise((r) => setTimeout(r, 100));
	}
	return { base, pid: server.pid!, loggedDurations, stop: () => stopChild(server) };
}

/** SIGTERM, and wait for the exit. */
export function stopChild(child: ChildProcess): Promise<void> {
	return new Promise((resolve) => {
		if (child.exitCode !== null || child.signalCode !== null) return resolve();
		child.once('exit', () => resolve());
		child.kill('SIGTERM');
	});
}

/** The fields of /proc/<pid>/stat after the parenthesised command: state is [0], ppid [1], utime [11], stime [12], cutime [13], cstime [14]. */
function procStat(pid: number | string): number[] {
	return fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ').map(Number);
}

const USER_HZ = 100; // clock ticks per second in /proc: 100 on every Linux this runs on

/**
 * CPU seconds (user + system) a process has used, and what its exited, waited-for children used
 * (a worker's ffmpeg runs), from /proc (Linux).
 */
export function cpuSeconds(pid: number): { self: number; children: number } {
	const fields = procStat(pid);
	return { self: (fields[11] + fields[12]) / USER_HZ, children: (fields[13] + fields[14]) / USER_HZ };
}

/**
 * CPU seconds of a process (self) and of everything it started (children): those that exited and
 * were collected, and the live ones with everything they started in turn (the worker's media
 * helper and the helper's ffmpeg runs).
 */
export function processTreeCpuSeconds(pid: number): { self: number; children: number } {
	const own = cpuSeconds(pid);
	let children = own.children;
	for (const entry of fs.readdirSync('/proc')) {
		if (!/^\d+$/.test(entry)) continue;
		try {
			if (procStat(entry)[1] !== pid) continue;
			const child = processTreeCpuSeconds(Number(entry));
			children += child.self + child.children;
		} catch {
			// exited meanwhile: its time is in its parent's children now
		}
	}
	return { self: own.self, children };
}

/**
 * CPU seconds of the benchmark database: the postmaster (which collects exited backends) and its
 * live children (backends, WAL writer, checkpointer...).
 */
export function databaseCpuSeconds(database: BenchDatabase): number {
	const postmaster = Number(fs.readFileSync(path.join(database.dir, 'data', 'postmaster.pid'), 'utf8').split('\n')[0]);
	const own = cpuSeconds(postmaster);
	let total = own.self + own.children;
	for (const entry of fs.readdirSync('/proc')) {
		if (!/^\d+$/.test(entry)) continue;
		try {
			const fields = procStat(entry);
			if (fields[1] === postmaster) total += (fields[11] + fields[12]) / USER_HZ;
		} catch {
			// exited meanwhile: its time is in the postmaster's children now
		}
	}
	return total;
}

export function median(xs: number[]): number {
	const s = [...xs].sort((a, b) => a - b);
	const mid = s.length >> 1;
	return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

export function mean(xs: number[]): number {
	return xs.reduce((a, b) => a + b, 0) / xs.length;
}

/** Resident set size of a process in bytes (Linux /proc), or null once it has gone. */
export function rssBytes(pid: number): number | null {
	try {
		const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
		const kb = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
		return kb ? Number(kb[1]) * 1024 : null;
	} catch {
		return null;
	}
}

export const MiB = 1024 * 1024;
