/**
 * `npm run bench:accounts`: the account pool under contention, on the embedded PostgreSQL.
 *
 * The target (the issue's words): "500 concurrent selections against 5 accounts × 2 slots: p95
 * under 50 ms and never more than 10 slots held." A selection is one reserveAccount call: it
 * answers an account (a slot taken) or null (nothing free now; the pipeline re-queues the job with
 * a wait reason). So each round fires 500 reserveAccount calls at once, each for its own queued
 * job row, and reports the calls' latency (p50/p95/max), how many got an account (exactly 10,
 * or the pool leaked or over-booked) and the most slots ever held (the accounts' current_jobs,
 * sampled on a separate connection during the round, and summed after it). Then the 10 winners
 * release and are refunded, and the next round starts. BENCH_ROUNDS rounds (default 10) after one
 * warm-up round.
 *
 * The calls share the connection pool a worker process really has: DB_POOL_MAX from config.ts,
 * max(4, 2 × cores), 4 on a 2-core machine (BENCH_POOL overrides; BENCH_POOLS="4,10,20" runs the
 * target once per size). When each call ran its own statement, the 500 mostly waited their turn
 * for a connection (postgres.js pipelines them, so they queue on the server side of the socket),
 * and the p95 of a call was about 95 % of the time the whole burst took, i.e. ≈ 475 ×
 * per-statement cost ÷ the statements the server runs at once. reserveAccount now coalesces
 * concurrent calls of one shape (src/lib/server/accounts/coalescer.ts): the first call runs alone,
 * the calls made meanwhile wait for it and then share one statement (at most 256 jobs each), so
 * the burst is three statements. The baseline printed first in the same run gives the scale: the
 * same 500-call burst of a bare `select 1` on the same pool (500 statements: pool queueing alone),
 * and one reserveAccount with nobody else around (the statement's own cost).
 *
 * Measured (2-core machine, other engineers' tests running; load average 0.8-1.4 for the last
 * run, `BENCH_POOLS=4,10,20`), target burst on the worker's 4 connections:
 *   before: every call built the statement with drizzle (~0.35 ms of client CPU: the first answer
 *     came back only after all 500 were built) and the server parsed and planned its 3.7 kB
 *     unprepared: burst 741 ms, p95 598 ms, 23× the same burst of `select 1` (load ~5).
 *   prepared once per shape: burst ~130 ms, p95 ~190 ms, 2.7× (load 4-27, so noisy).
 *   inputs as one-row CTE `p` (6 parameters instead of 39; Bind messages small enough for
 *     postgres.js to put several in one socket write, and a shorter text to hash per call):
 *     burst 51-60 ms, p95 48-62 ms over four runs (per-round p95 37-70 ms), 2.6-3.2× the
 *     `select 1` burst (18-23 ms); every slot already held: p95 46-69 ms; always exactly 10
 *     granted, never more than 10 held. What remains per call is mostly the protocol: the
 *     client's socket writes (each wakes a backend) and postgres.js building each query.
 *   Tried and not kept: a read-only look (any account eligible? the job free of a slot?) before
 *   the reservation. It made the all-held burst a little cheaper (p95 44 ms) but the target
 *   burst slower (p95 87 ms): pipelined, all 500 looks run while the slots are still free, so
 *   nearly every call then reserves too. Sequentially the reservation's null answer costs
 *   ~0.4 ms against 0.16 ms for `select 1` (generic plan: 1035 generic, 5 custom).
 *   So the target sat at the edge on this machine: the 500 calls queued for 4 connections, and
 *   a burst of the cheapest possible statement already takes 18-23 ms here. More connections did
 *   not help on 2 cores: p95 94 ms with 10, 140 ms with 20 (more statements at once found the
 *   5 rows locked, fell back to the waiting UPDATE and queued on row locks, and the backends
 *   competed for the 2 cores).
 *   coalesced (group commit): one statement reserves for a whole batch of calls (it locks the
 *     eligible accounts in id order, assigns slots as one-by-one calls would, then locks and
 *     marks only the jobs that got one), so 500 calls are 3 statements of ~2-4 ms each
 *     (1 + 256 + 243 jobs). Same session, `npm run bench:accounts` twice or more on each side:
 *     before (load average 0.5-1.2): p95 86.2, 74.2, 72.9 ms (p50 40-53 ms, max 89-128 ms,
 *       burst 67-87 ms); select-1 burst p95 15-30 ms; every slot held: p95 69-104 ms.
 *     after (load 0.9-2.6): p95 10.6, 10.6, 9.6, 9.7 ms, and 11.7 ms in a `BENCH_POOLS=4,10,20`
 *       run (13.2 ms with 10 connections, 14.6 ms with 20); p50 5.4-7.3 ms, max 10-15 ms, burst
 *       8.1-9.4 ms; select-1 burst p95 17-20 ms; every slot held: p95 3.9-5.4 ms. Always exactly
 *       10 granted per round, never more than 10 held.
 *     The first version locked every job row of a batch (256 row locks to hand out 10 slots,
 *     ~2 of the statement's ~5 ms in EXPLAIN ANALYZE); it measured p95 44.5 and 55.2 ms, but on
 *     a busy machine (load 2.7-6.6, select-1 burst p95 83-92 ms), so the two are not comparable.
 *     A lone call costs a little more than the single-job statement did (the batch statement
 *     locks every eligible account and has more steps): median 1.03 against 0.85 ms with a slot
 *     free, 0.36-0.47 against 0.30-0.34 ms with none (old and new alternated in one process, 300
 *     calls each). Kept: one statement for any number of calls, one copy of the rules.
 *     Tried and not kept: starting the first call's statement a microtask later, so that a burst
 *     made in one tick forms full batches (2 statements instead of 3): p95 9.9 ms against 10.6,
 *     within the noise, for a rule a reader would have to think about.
 *
 * Secondary context (not the target): the old scenario. 500 jobs each call reserveAccount until
 * they get a slot (after a null they back off from 20 ms doubling to 1 s, jittered, as a re-queued
 * job would, only shorter), hold it BENCH_HOLD_MS (5 ms) and release it. Its latencies include
 * the calls made while every slot is held, and its wall time is dominated by the backoff
 * (1.9-2.0 s before coalescing, every call p95 115-134 ms; 1.8-1.9 s after, p95 76-90 ms).
 */
import { randomBytes } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { encryptCredentials } from '../src/lib/server/accounts/crypto';
import { refundCredits, releaseSlot, reserveAccount } from '../src/lib/server/accounts/pool';
import { loadConfig } from '../src/lib/server/config';
import { connect, type Database } from '../src/lib/server/db/client';
import { jobs, providerAccounts } from '../src/lib/server/db/schema';
import { logger } from '../src/lib/server/logger';
import { registerBenchUser, startBenchDatabase } from './support';

const JOBS = Number(process.env.BENCH_JOBS ?? 500);
const ACCOUNTS = 5;
const SLOTS = 2;
const LIMIT = ACCOUNTS * SLOTS;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 10);
const HOLD_MS = Number(process.env.BENCH_HOLD_MS ?? 5);
const TARGET_P95_MS = 50;

// The warm-up's refunds would log a line each.
logger.level = 'warn';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const percentile = (xs: number[], p: number) => {
	const s = [...xs].sort((a, b) => a - b);
	return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
};
const ms = (x: number) => `${x.toFixed(1)} ms`;
const stats = (xs: number[]) => `p50 ${ms(percentile(xs, 50))}  p95 ${ms(percentile(xs, 95))}  max ${ms(Math.max(...xs))}`;

const database = await startBenchDatabase();
const { userId } = await registerBenchUser(database.url);
const config = loadConfig({ NODE_ENV: 'test', CREDENTIALS_KEY: randomBytes(32).toString('base64'), DATA_DIR: database.dir });
// What a worker process opens (src/worker.ts: connect(cfg.DATABASE_URL, { max: cfg.DB_POOL_MAX })).
const workerPool = loadConfig({ NODE_ENV: 'test' }).DB_POOL_MAX;
const pools = (process.env.BENCH_POOLS ?? process.env.BENCH_POOL ?? String(workerPool)).split(',').map(Number);
const sampler = connect(database.url, { max: 1 });
const setup = connect(database.url, { max: 2 });

/** Sums the accounts' current_jobs on its own connection until stopped; answers the maximum seen. */
function sampleHeld(): { stop(): Promise<number> } {
	let running = true;
	let max = 0;
	const loop = (async () => {
		while (running) {
			const [row] = await sampler.db
				.select({ held: sql<number>`coalesce(sum(${providerAccounts.currentJobs}), 0)::int` })
				.from(providerAccounts);
			max = Math.max(max, row.held);
			await sleep(0);
		}
	})();
	return {
		async stop() {
			running = false;
			await loop;
			return max;
		}
	};
}

async function heldNow(db: Database['db']): Promise<{ held: number; spent: number }> {
	const [row] = await db
		.select({
			held: sql<number>`coalesce(sum(${providerAccounts.currentJobs}), 0)::int`,
			spent: sql<number>`coalesce(sum(1000000 - (${providerAccounts.credits} ->> 'default')::numeric), 0)::int`
		})
		.from(providerAccounts);
	return row;
}

/** `n` calls of `fn` started at once; each one's latency from its start to its answer. */
async function burst<T>(n: number, fn: (i: number) => Promise<T>): Promise<{ latencies: number[]; results: T[]; wall: number }> {
	const latencies: number[] = new Array(n);
	const started = performance.now();
	const results = await Promise.all(
		Array.from({ length: n }, async (_, i) => {
			const t0 = performance.now();
			const result = await fn(i);
			latencies[i] = performance.now() - t0;
			return result;
		})
	);
	return { latencies, results, wall: performance.now() - started };
}

let failed = false;
try {
	const key = Buffer.from(config.CREDENTIALS_KEY!, 'base64');
	await setup.db.insert(providerAccounts).values(
		Array.from({ length: ACCOUNTS }, (_, i) => ({
			providerId: 'bench',
			label: `bench ${i + 1}`,
			credentialsEncrypted: encryptCredentials(key, { api_key: `key-${i}` }),
			credits: { default: 1_000_000 },
			maxConcurrentJobs: SLOTS
		}))
	);
	const newJobs = (n: number) =>
		setup.db
			.insert(jobs)
			.values(
				Array.from({ length: n }, () => ({
					ownerId: userId,
					operationType: 'text_to_video' as const,
					providerId: 'bench',
					params: { prompt: 'bench' },
					status: 'queued' as const
				}))
			)
			.returning({ id: jobs.id });
	const jobRows = await newJobs(JOBS);
	const [warm] = await newJobs(1);
	const reserve = (db: Database['db'], jobId: string) =>
		reserveAccount(db, config, { id: jobId, ownerId: userId, providerId: 'bench' }, { creditType: 'default', amount: 1 });

	console.log(`${JOBS} concurrent reserveAccount calls against ${ACCOUNTS} accounts × ${SLOTS} slots, ${ROUNDS} rounds (after one warm-up round)`);
	console.log(`pool: a worker process opens DB_POOL_MAX = ${workerPool} connections here (max(4, 2 × cores)); measured with ${pools.join(', ')}`);
	const targetRuns: { pool: number; p95: number; ok: boolean }[] = [];
	for (const pool of pools) {
		const app = connect(database.url, { max: pool });
		try {
			// Open every connection (and let each prepare what it prepares) before the clock runs.
			await Promise.all(Array.from({ length: pool * 2 }, () => app.db.execute(sql`select 1`)));
			for (let i = 0; i < 20; i++) {
				await reserve(app.db, warm.id);
				await releaseSlot(app.db, warm.id);
				await refundCredits(app.db, warm.id);
			}

			// Baselines, same run, same pool.
			const ping: number[] = [];
			const alone: number[] = [];
			for (let i = 0; i < 100; i++) {
				let t0 = performance.now();
				await app.db.execute(sql`select 1`);
				ping.push(performance.now() - t0);
				t0 = performance.now();
				await reserve(app.db, warm.id);
				alone.push(performance.now() - t0);
				await releaseSlot(app.db, warm.id);
				await refundCredits(app.db, warm.id);
			}
			// A burst of the cheapest statement there is: what queueing for `pool` connections costs.
			const pingBursts: number[] = [];
			for (let round = 0; round < 3; round++) pingBursts.push(...(await burst(JOBS, () => app.db.execute(sql`select 1`))).latencies);
			// A burst of reserveAccount with every slot already held: all 500 take the "none free" path.
			for (const job of jobRows.slice(0, LIMIT)) await reserve(app.db, job.id);
			const fullBursts: number[] = [];
			for (let round = 0; round < 3; round++) {
				const b = await burst(JOBS - LIMIT, (i) => reserve(app.db, jobRows[LIMIT + i].id));
				if (b.results.some((r) => r)) throw new Error('a reservation succeeded while every slot was held');
				fullBursts.push(...b.latencies);
			}
			for (const job of jobRows.slice(0, LIMIT)) {
				await releaseSlot(app.db, job.id);
				await refundCredits(app.db, job.id);
			}

			// The target: 500 at once against 10 free slots, round after round.
			const all: number[] = [];
			const grantedLatency: number[] = [];
			const perRoundP95: number[] = [];
			let worstGranted = [LIMIT, LIMIT];
			let maxHeldSampled = 0;
			let maxHeldAfter = 0;
			let wall = 0;
			for (let round = 0; round <= ROUNDS; round++) {
				const sampling = sampleHeld();
				const b = await burst(JOBS, (i) => reserve(app.db, jobRows[i].id));
				const sampled = await sampling.stop();
				const after = await heldNow(app.db);
				const winners = jobRows.filter((_, i) => b.results[i]);
				if (round > 0) {
					all.push(...b.latencies);
					grantedLatency.push(...b.latencies.filter((_, i) => b.results[i]));
					perRoundP95.push(percentile(b.latencies, 95));
					worstGranted = [Math.min(worstGranted[0], winners.length), Math.max(worstGranted[1], winners.length)];
					maxHeldSampled = Math.max(maxHeldSampled, sampled);
					maxHeldAfter = Math.max(maxHeldAfter, after.held);
					wall += b.wall;
				}
				if (winners.length !== LIMIT || after.held !== LIMIT || sampled > LIMIT) {
					failed = true;
					console.log(`round ${round}: ${winners.length} got an account, ${after.held} held after, ${sampled} max sampled (expected ${LIMIT})`);
				}
				for (const job of winners) {
					if (!(await releaseSlot(app.db, job.id))) throw new Error(`slot of job ${job.id} was not held`);
					await refundCredits(app.db, job.id);
				}
			}
			const end = await heldNow(app.db);
			if (end.held !== 0 || end.spent !== 0) {
				failed = true;
				console.log(`after releasing: ${end.held} slots held, ${end.spent} credits spent (expected 0 and 0)`);
			}
			const p95 = percentile(all, 95);
			const pingP95 = percentile(pingBursts, 95);
			const ok = worstGranted[0] === LIMIT && worstGranted[1] === LIMIT && maxHeldSampled <= LIMIT && maxHeldAfter === LIMIT;
			targetRuns.push({ pool, p95, ok });
			console.log(`\n--- ${pool} connections`);
			console.log(`baseline  select 1, one caller:                          p50 ${ms(percentile(ping, 50))}`);
			console.log(`baseline  reserveAccount, one caller (a slot free):      p50 ${ms(percentile(alone, 50))}  p95 ${ms(percentile(alone, 95))}`);
			console.log(`baseline  ${JOBS} × select 1 at once:                       ${stats(pingBursts)}`);
			console.log(`context   ${JOBS - LIMIT} × reserveAccount at once, every slot held: ${stats(fullBursts)}`);
			console.log(`TARGET    ${JOBS} × reserveAccount at once, 10 slots free:   ${stats(all)}   (burst ${ms(wall / ROUNDS)} on average)`);
			console.log(`          p95 per round: ${perRoundP95.map((x) => x.toFixed(1)).join(' ')} ms`);
			console.log(`          the ${grantedLatency.length} calls that got an account: ${stats(grantedLatency)}`);
			console.log(`          got an account per round: ${worstGranted[0] === worstGranted[1] ? worstGranted[0] : worstGranted.join('-')} (must be ${LIMIT}); slots held, max sampled during a round ${maxHeldSampled}, summed after ${maxHeldAfter} (limit ${LIMIT})`);
			console.log(`ratio     p95 ÷ ${TARGET_P95_MS} ms target ${(p95 / TARGET_P95_MS).toFixed(2)} (<= 1 meets it); p95 ÷ select-1 burst p95 ${(p95 / pingP95).toFixed(1)}; p95 ÷ one caller's p50 ${(p95 / percentile(alone, 50)).toFixed(0)}`);
		} finally {
			await app.close();
		}
	}

	// Secondary context: holders release after a short hold and the others retry with backoff.
	{
		const pool = pools[0];
		const app = connect(database.url, { max: pool });
		try {
			await Promise.all(Array.from({ length: pool * 2 }, () => app.db.execute(sql`select 1`)));
			let held = 0;
			let maxHeld = 0;
			const sampling = sampleHeld();
			const calls: number[] = [];
			const granted: number[] = [];
			let nulls = 0;
			const started = performance.now();
			await Promise.all(
				jobRows.map(async (job) => {
					let misses = 0;
					for (;;) {
						const t0 = performance.now();
						const reserved = await reserve(app.db, job.id);
						const took = performance.now() - t0;
						calls.push(took);
						if (!reserved) {
							nulls++;
							await sleep((0.5 + Math.random()) * Math.min(1000, 20 * 2 ** Math.min(misses++, 6)));
							continue;
						}
						granted.push(took);
						maxHeld = Math.max(maxHeld, ++held);
						await sleep(HOLD_MS);
						held--;
						if (!(await releaseSlot(app.db, job.id))) throw new Error(`slot of job ${job.id} was not held`);
						return;
					}
				})
			);
			const seconds = (performance.now() - started) / 1000;
			const maxHeldInDb = await sampling.stop();
			const after = await heldNow(app.db);
			const ok = maxHeld <= LIMIT && maxHeldInDb <= LIMIT && after.held === 0 && after.spent === JOBS;
			if (!ok) failed = true;
			console.log(`\n--- secondary context (not the target): ${JOBS} jobs retry with backoff until they get a slot, hold ${HOLD_MS} ms, release; ${pool} connections`);
			console.log(`all ${JOBS} done in ${seconds.toFixed(1)} s (mostly backoff); ${calls.length} calls, ${nulls} answered "no account now"`);
			console.log(`reserveAccount, every call: ${stats(calls)}`);
			console.log(`reserveAccount, the ${granted.length} that got a slot: ${stats(granted)}`);
			console.log(`slots held at once, max: ${maxHeld} by the jobs, ${maxHeldInDb} in the database (limit ${LIMIT}); after: ${after.held} held, ${after.spent} credits spent (expected 0 and ${JOBS}) ${ok ? 'OK' : 'FAILED'}`);
		} finally {
			await app.close();
		}
	}

	console.log('');
	for (const run of targetRuns) {
		console.log(
			`${run.ok ? 'OK' : 'FAILED'} (${run.pool} connections${run.pool === workerPool ? ', the worker’s' : ''}): exactly ${LIMIT} granted per round, never more than ${LIMIT} held; p95 ${ms(run.p95)} vs target < ${TARGET_P95_MS} ms: ${run.p95 < TARGET_P95_MS ? 'met' : 'missed'}`
		);
		if (!run.ok) failed = true;
	}
	if (failed) process.exitCode = 1;
} finally {
	await sampler.close();
	await setup.close();
	await database.stop();
}
