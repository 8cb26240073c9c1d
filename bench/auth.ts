/**
 * `npm run bench:auth`: requests per second of an authenticated `GET /api/v1/users/me` (session
 * lookup, sliding expiry, user, quotas and today's usage) against the bare `GET /api/v1/ping`
 * (constant JSON through the same server and hooks), both on the production build, in one run.
 * Target: ratio >= 0.5. The ratio is printed last.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import { connect } from '../src/lib/server/db/client';
import { freePort, startEmbeddedPostgres } from '../src/lib/server/db/embedded';
import { migrateDatabase } from '../src/lib/server/db/migrate';
import { registerUser } from '../src/lib/server/auth/service';

const DURATION_S = Number(process.env.BENCH_SECONDS ?? 6);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);

if (!fs.existsSync('build/index.js') || process.env.BENCH_BUILD === '1') {
	console.log('building the production app...');
	if (spawnSync('npx', ['vite', 'build'], { stdio: 'inherit' }).status !== 0) process.exit(1);
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pixsim7-bench-'));
fs.chmodSync(dir, 0o755);
const pg = await startEmbeddedPostgres({ dir: path.join(dir, 'data'), persistent: false, databases: ['bench'] });
const url = pg.url('bench');
await migrateDatabase(url, path.resolve('drizzle'));

const database = connect(url, { max: 2 });
const { token } = await registerUser(
	database.db,
	{ email: 'bench@example.test', username: 'bench', password: 'bench-password' },
	{ ipAddress: '127.0.0.1', userAgent: 'bench' },
	{ SESSION_TTL_DAYS: 30 }
);
await database.close();

const port = await freePort();
// BENCH_PROFILE=dir writes the server's V8 CPU profile there (open it in Chrome DevTools).
const profile = process.env.BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`] : [];
const server = spawn(process.execPath, [...profile, 'build/index.js'], {
	env: { ...process.env, NODE_ENV: 'production', DATABASE_URL: url, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'info' },
	// The server logs every request, as in production; its lines go nowhere so the terminal is not the bottleneck.
	stdio: ['ignore', 'ignore', 'inherit']
});
const base = `http://127.0.0.1:${port}`;
for (let i = 0; ; i++) {
	try {
		if ((await fetch(`${base}/health`)).ok) break;
	} catch {
		// not up yet
	}
	if (i > 200) throw new Error('server did not start');
	await new Promise((r) => setTimeout(r, 100));
}

async function measure(label: string, pathname: string, headers: Record<string, string> = {}, seconds = DURATION_S) {
	const result = await autocannon({ url: base + pathname, connections: CONNECTIONS, duration: seconds, headers });
	const bad = result.non2xx + result.errors + result.timeouts;
	if (bad > 0) throw new Error(`${label}: ${bad} failed requests`);
	console.log(
		`${label.padEnd(28)} ${result.requests.average.toFixed(0).padStart(7)} req/s   p50 ${result.latency.p50} ms   p99 ${result.latency.p99} ms`
	);
	return result.requests.average;
}

const auth = { authorization: `Bearer ${token}` };
try {
	console.log(`${CONNECTIONS} connections, ${DURATION_S} s per measurement, after a 5 s warm-up of each route`);
	await measure('warm-up ping', '/api/v1/ping', {}, 5);
	await measure('warm-up users/me', '/api/v1/users/me', auth, 5);
	// Interleaved rounds, so drift in the machine's speed falls on both routes alike.
	const bare: number[] = [];
	const me: number[] = [];
	for (let round = 1; round <= ROUNDS; round++) {
		bare.push(await measure(`bare GET /api/v1/ping #${round}`, '/api/v1/ping'));
		me.push(await measure(`auth GET /api/v1/users/me #${round}`, '/api/v1/users/me', auth));
	}
	const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
	console.log(`bare route mean ${mean(bare).toFixed(0)} req/s, authenticated users/me mean ${mean(me).toFixed(0)} req/s`);
	console.log(`ratio (authenticated users/me ÷ bare route): ${(mean(me) / mean(bare)).toFixed(2)}  (target >= 0.50)`);
} finally {
	server.kill('SIGTERM');
	await new Promise((r) => server.once('exit', r));
	await pg.stop();
	fs.rmSync(dir, { recursive: true, force: true });
}
