/**
 * `npm run bench:auth`: requests per second of an authenticated `GET /api/v1/users/me` (session
 * lookup, sliding expiry, user, quotas and today's usage) against the bare `GET /api/v1/ping`
 * (constant JSON through the same server and hooks), both on the production build, in one run.
 * Target: ratio >= 0.5. The ratio is printed last.
 */
import autocannon from 'autocannon';
import { ensureBuild, mean, registerBenchUser, startBenchDatabase, startBenchServer } from './support';

const DURATION_S = Number(process.env.BENCH_SECONDS ?? 6);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);

ensureBuild();
const database = await startBenchDatabase();
const { token } = await registerBenchUser(database.url);
const server = await startBenchServer(database.url);
const base = server.base;

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
	console.log(`bare route mean ${mean(bare).toFixed(0)} req/s, authenticated users/me mean ${mean(me).toFixed(0)} req/s`);
	console.log(`ratio (authenticated users/me ÷ bare route): ${(mean(me) / mean(bare)).toFixed(2)}  (target >= 0.50)`);
} finally {
	await server.stop();
	await database.stop();
}
