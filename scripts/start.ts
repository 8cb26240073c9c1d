/**
 * `npm start` and `npm run dev`: one command for the whole app. Starts the embedded PostgreSQL
 * when DATABASE_URL is unset, applies migrations, creates the demo user on a fresh embedded
 * database, builds if the build is missing or stale, then runs the web server and the worker
 * side by side until either exits or a signal arrives.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { loadOrCreateDevCredentialsKey } from '../src/lib/server/accounts/crypto';
import { loadConfig, ConfigError, type Config } from '../src/lib/server/config';
import { startEmbeddedPostgres, type EmbeddedServer } from '../src/lib/server/db/embedded';
import { migrateDatabase } from '../src/lib/server/db/migrate';
import { seedDemo } from '../src/lib/server/demo/seed';

// A local .env fills in what the environment does not already set.
if (fs.existsSync('.env')) process.loadEnvFile('.env');

const mode = process.argv[2] === 'dev' ? 'dev' : 'start';
const say = (line: string) => process.stdout.write(`[pixsim7] ${line}\n`);

let cfg: Config;
try {
	cfg = loadConfig();
} catch (err) {
	if (err instanceof ConfigError) {
		process.stderr.write(`${err.message}\n`);
		process.exit(1);
	}
	throw err;
}

function newestMtime(entry: string): number {
	const stat = fs.statSync(entry, { throwIfNoEntry: false });
	if (!stat) return 0;
	if (!stat.isDirectory()) return stat.mtimeMs;
	let newest = stat.mtimeMs;
	for (const child of fs.readdirSync(entry)) newest = Math.max(newest, newestMtime(path.join(entry, child)));
	return newest;
}

function buildIfStale(): void {
	const built = fs.statSync('build/index.js', { throwIfNoEntry: false })?.mtimeMs ?? 0;
	const sources = Math.max(...['src', 'static', 'package.json', 'svelte.config.js', 'vite.config.ts'].map(newestMtime));
	if (built > sources) return;
	say('building the app (first start, or sources changed)...');
	const result = spawnSync('npx', ['vite', 'build'], { stdio: ['ignore', 'inherit', 'inherit'] });
	if (result.status !== 0) {
		say('build failed');
		process.exit(result.status ?? 1);
	}
}

const children: ChildProcess[] = [];
let embedded: EmbeddedServer | undefined;
let stopping = false;

async function shutdown(code: number): Promise<never> {
	if (!stopping) {
		stopping = true;
		await Promise.all(
			children.map(
				(child) =>
					new Promise<void>((resolve) => {
						if (child.exitCode !== null || child.signalCode !== null) return resolve();
						child.once('exit', () => resolve());
						child.kill('SIGTERM');
						setTimeout(() => child.kill('SIGKILL'), (cfg.WORKER_SHUTDOWN_SECONDS + 5) * 1000).unref();
					})
			)
		);
		if (embedded) await embedded.stop().catch(() => {});
	}
	process.exit(code);
}

process.on('SIGINT', () => void shutdown(0));
process.on('SIGTERM', () => void shutdown(0));

if (mode === 'start') buildIfStale();

let databaseUrl = cfg.DATABASE_URL;
if (!databaseUrl) {
	const dir = path.join(cfg.dataDir, 'postgres');
	say(`starting the embedded PostgreSQL in ${dir}`);
	embedded = await startEmbeddedPostgres({ dir, persistent: true, databases: ['pixsim7'] });
	databaseUrl = embedded.url('pixsim7');
}
await migrateDatabase(databaseUrl, cfg.migrationsDir);

if (embedded) {
	// Demo data only ever lands in the embedded database, and only while it has no users yet.
	const demo = await seedDemo(databaseUrl, cfg);
	if (demo) {
		say('created the demo accounts:');
		say(`    administrator: ${demo.email}`);
		say(`    user:          ${demo.memberEmail}`);
		say(`    password:      ${demo.password}  (both)`);
		say(`    (also written to ${demo.credentialsFile})`);
	}
}

const port = process.env.PORT ?? (mode === 'dev' ? '5173' : '3000');
const host = process.env.HOST ?? '127.0.0.1';
const address = `http://${host === '0.0.0.0' ? 'localhost' : host}:${port}`;
// adapter-node assumes https when ORIGIN is unset, so every form post on this plain-HTTP address
// would fail SvelteKit's cross-site check (403). Behind a proxy, set ORIGIN to the public URL.
const origin = process.env.ORIGIN || address;
// adapter-node refuses bodies over 512 KB by default; uploads stream to disk and the app enforces
// MAX_UPLOAD_MB itself.
const bodySizeLimit = process.env.BODY_SIZE_LIMIT ?? 'Infinity';
// Web runs as production, which requires CREDENTIALS_KEY; unset, this machine's key is made once in
// DATA_DIR/credentials.key and both processes get the same one.
const credentialsKey = cfg.CREDENTIALS_KEY ?? loadOrCreateDevCredentialsKey(cfg.dataDir);
const env = {
	...process.env,
	DATABASE_URL: databaseUrl,
	PORT: port,
	HOST: host,
	ORIGIN: origin,
	BODY_SIZE_LIMIT: bodySizeLimit,
	CREDENTIALS_KEY: credentialsKey
};

function run(name: string, command: string, args: string[], extraEnv: Record<string, string> = {}): void {
	const child = spawn(command, args, { stdio: ['ignore', 'inherit', 'inherit'], env: { ...env, ...extraEnv } });
	children.push(child);
	child.once('exit', (code, signal) => {
		if (stopping) return;
		say(`${name} exited (${signal ?? code}); stopping`);
		void shutdown(code === 0 ? 1 : (code ?? 1));
	});
}

const tsx = path.resolve('node_modules/.bin/tsx');
if (mode === 'start') {
	run('web', process.execPath, ['build/index.js'], { PIXSIM_PROCESS: 'web', NODE_ENV: 'production' });
} else {
	run('web', path.resolve('node_modules/.bin/vite'), ['dev', '--port', port, '--host', host, '--strictPort']);
}
run('worker', tsx, ['src/worker.ts'], { PIXSIM_PROCESS: 'worker' });

say(`PixSim7 is starting on ${origin}  (API docs: /docs)`);
