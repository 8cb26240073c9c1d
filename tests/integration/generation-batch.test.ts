/**
 * The generation stages' batch handlers (generation/batch-*.ts) on a real database and queue,
 * against the Pixverse stand-in over real HTTP: a whole fetched batch of submit messages becomes
 * one attempt per job with its task id, start event and first poll; jobs beyond the free slots
 * wait with their reason; a batch of polls that finds the tasks done gives the slots back with
 * the accounts' success counts, makes as many waiting jobs due as slots came free, and queues the
 * downloads; a batch of downloads stores every result as an asset and completes the jobs. A slot
 * released twice (a poll re-delivered after a crash) is freed and counted once; many waiting
 * messages are made due in one statement, and only they. Anything off the common path is the one-message
 * handlers' (covered by the worker tests), and a message of one job is never answered for another.
 */
import { and, eq, inArray, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assets, events, jobs, providerAccounts, providerSubmissions } from '../../src/lib/server/db/schema';
import { downloadResults } from '../../src/lib/server/generation/batch-complete';
import { pollSubmissions } from '../../src/lib/server/generation/batch-poll';
import { submitJobs } from '../../src/lib/server/generation/batch-submit';
import { config } from '../../src/lib/server/config';
import { logger } from '../../src/lib/server/logger';
import { releaseSlots, wakeWaiting } from '../../src/lib/server/jobs/slots';
import { createBoss, enqueueMany, ensureQueues, wakeKeyedMany, type PgBoss } from '../../src/lib/server/queue/boss';
import { createLocalStorage } from '../../src/lib/server/storage/local';
import type { HandlerContext } from '../../src/lib/server/worker/handlers';
import { makeAccount, makeJob, testConfig } from '../support/accounts';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { makeUser } from '../support/factories';
import { tempRoot } from '../support/generation';
import { startPixverseStandin, type PixverseStandin } from '../support/pixverse-standin';

let t: TestDatabase;
let boss: PgBoss;
let ctx: HandlerContext;
let px: PixverseStandin;

beforeAll(async () => {
	// Instant tasks: every video is done at its first status check.
	px = await startPixverseStandin({ keys: { a: 'batch-key-a-0123456789', b: 'batch-key-b-0123456789' }, statuses: [1] });
	// The registered Pixverse provider reads its base URL from the process's configuration (parsed
	// once, when this file's imports first used it): point it at the stand-in.
	Object.assign(config(), { PIXVERSE_BASE_URL: px.url, PIXVERSE_POLL_MS: 10 });
	t = await createTestDatabase();
	boss = createBoss(t.url, 'pgboss', 'web');
	await boss.start();
	await ensureQueues(boss);
	ctx = {
		db: t.db,
		boss,
		config: testConfig({ PIXVERSE_BASE_URL: px.url }),
		log: logger,
		storage: createLocalStorage(tempRoot('batch')),
		attempt: { retryCount: 0, final: false }
	};
});
afterAll(async () => {
	await boss?.stop({ graceful: false, timeout: 2000 }).catch(() => {});
	await t?.destroy();
	await px?.stop();
});

const attempt = { retryCount: 0, final: false };
const submitMessages = (jobIds: string[]) => jobIds.map((id, i) => ({ id: `m-${id}-${i}`, payload: { job_id: id }, attempt }));
const queued = (name: string, keys: string[]) =>
	t.sql<{ singleton_key: string; due: boolean }[]>`select singleton_key, start_after <= now() as due from pgboss.job
		where name = ${name} and state = 'created' and singleton_key = any(${keys})`;

describe('generation batch stages', () => {
	it('submits a batch of queued jobs: one attempt each with its task id, processing with job.started, one poll each', async () => {
		const { user } = await makeUser(t.db);
		await makeAccount(t.db, { ownerId: user.id, credentials: { api_key: px.keys.a }, credits: { default: 100_000 }, maxConcurrentJobs: 10 });
		const made = await Promise.all(Array.from({ length: 6 }, (_, i) => makeJob(t.db, user.id, { params: { prompt: `batch ${i}` } })));
		const ids = made.map((j) => j.id);

		const results = await submitJobs(ctx, submitMessages(ids));
		expect([...results.values()].map((r) => (r as Record<string, unknown>).outcome)).toEqual(Array(6).fill('submitted'));

		const ledger = await t.db.select().from(providerSubmissions).where(inArray(providerSubmissions.jobId, ids));
		expect(ledger).toHaveLength(6);
		expect(ledger.every((s) => s.status === 'submitted' && s.providerTaskId && s.retryAttempt === 0 && s.deadlineAt)).toBe(true);
		// Each job's own prompt went into its own attempt.
		for (const job of made) expect(ledger.find((s) => s.jobId === job.id)?.payload).toMatchObject({ prompt: job.params.prompt });
		const after = await t.db.select().from(jobs).where(inArray(jobs.id, ids));
		expect(after.every((j) => j.status === 'processing' && j.holdsSlot && j.startedAt)).toBe(true);
		const started = await t.db.select().from(events).where(and(inArray(events.jobId, ids), eq(events.type, 'job.started')));
		expect(started).toHaveLength(6);
		expect(await queued('generation.poll', ledger.map((s) => s.id))).toHaveLength(6);
		const prompts = px.requestsTo('/video/text/generate').map((r) => String((r.body as { prompt?: string } | null)?.prompt ?? ''));
		expect(prompts.filter((p) => p.startsWith('batch '))).toHaveLength(6);
	});

	it('lets jobs beyond the free slots wait with their reason, then completes a batch of polls and hands the freed slots on', async () => {
		const { user } = await makeUser(t.db);
		const account = await makeAccount(t.db, { ownerId: user.id, credentials: { api_key: px.keys.b }, credits: { default: 100_000 }, maxConcurrentJobs: 2 });
		const made: string[] = [];
		for (let i = 0; i < 5; i++) made.push((await makeJob(t.db, user.id, { params: { prompt: `slots ${i}` } })).id);

		const results = await submitJobs(ctx, submitMessages(made));
		const outcomes = made.map((id) => (results.get(`m-${id}-${made.indexOf(id)}`) as Record<string, unknown>).outcome);
		expect(outcomes.filter((o) => o === 'submitted')).toHaveLength(2);
		expect(outcomes.filter((o) => o === 'waiting')).toHaveLength(3);
		const waiting = made.filter((_, i) => outcomes[i] === 'waiting');
		const waitingRows = await t.db.select().from(jobs).where(inArray(jobs.id, waiting));
		expect(waitingRows.every((j) => j.status === 'queued' && !j.holdsSlot && j.waitReason === 'The account for Pixverse is busy')).toBe(true);
		// Each waits under its own key, not yet due.
		expect((await queued('generation.submit', waiting)).map((m) => m.due)).toEqual([false, false, false]);
		const [held] = await t.db.select().from(providerAccounts).where(eq(providerAccounts.id, account.id));
		expect(held.currentJobs).toBe(2);

		const running = await t.db.select().from(providerSubmissions).where(inArray(providerSubmissions.jobId, made));
		const polled = await pollSubmissions(
			ctx,
			running.map((s) => ({ id: `p-${s.id}`, payload: { submission_id: s.id }, attempt }))
		);
		expect([...polled.values()].map((r) => (r as Record<string, unknown>).download)).toEqual(['queued', 'queued']);
		// The provider is done: the slots are back at once, before the results are downloaded.
		const [freed] = await t.db.select().from(providerAccounts).where(eq(providerAccounts.id, account.id));
		expect(freed).toMatchObject({ currentJobs: 0, successCount: 2 });
		expect(freed.avgGenerationSec).not.toBeNull();
		// Two slots came free: two of the three waiting jobs are due now, the third still waits.
		expect((await queued('generation.submit', waiting)).filter((m) => m.due)).toHaveLength(2);
		const downloads = await queued(
			'generation.download',
			running.map((s) => s.id)
		);
		expect(downloads).toHaveLength(2);

		const downloaded = await downloadResults(
			ctx,
			running.map((s) => ({ id: `d-${s.id}`, payload: { submission_id: s.id }, attempt }))
		);
		expect([...downloaded.values()].map((r) => (r as Record<string, unknown>).outcome)).toEqual(['completed', 'completed']);
		const done = await t.db.select().from(jobs).where(inArray(jobs.id, running.map((s) => s.jobId)));
		expect(done.every((j) => j.status === 'completed' && j.assetId && !j.holdsSlot)).toBe(true);
		const results2 = await t.db.select().from(assets).where(inArray(assets.sourceJobId, running.map((s) => s.jobId)));
		expect(results2).toHaveLength(2);
		expect(results2.every((a) => a.mediaType === 'video' && a.status === 'processing' && a.providerId === 'pixverse')).toBe(true);
		expect(new Set(results2.map((a) => a.id)).size).toBe(2);
		// Each new asset is queued for its thumbnails, and the owner's storage counts the bytes.
		const ingest = await t.sql<{ n: number }[]>`select count(*)::int as n from pgboss.job where name = 'assets.ingest'
			and data->>'asset_id' = any(${results2.map((a) => a.id)})`;
		expect(ingest[0].n).toBe(2);
		const [owner] = await t.sql<{ used: string }[]>`select storage_bytes_used::text as used from users where id = ${user.id}`;
		expect(Number(owner.used)).toBe(results2.reduce((sum, a) => sum + (a.fileSizeBytes ?? 0), 0));
	});

	it('frees a slot and counts its success once when the release runs twice (a re-delivered poll)', async () => {
		const { user } = await makeUser(t.db);
		const account = await makeAccount(t.db, { ownerId: user.id, credentials: { api_key: px.keys.a }, maxConcurrentJobs: 3 });
		const made = await Promise.all(Array.from({ length: 2 }, () => makeJob(t.db, user.id)));
		await t.db.update(jobs).set({ status: 'processing', accountId: account.id, holdsSlot: true }).where(inArray(jobs.id, made.map((j) => j.id)));
		await t.db.update(providerAccounts).set({ currentJobs: 2 }).where(eq(providerAccounts.id, account.id));
		const finished = made.map((j) => ({ jobId: j.id, generationSeconds: 4 }));

		const first = await releaseSlots(t.db, finished);
		expect(first.get(account.id)).toBe(2);
		const again = await releaseSlots(t.db, finished);
		expect(again.size).toBe(0);
		const [row] = await t.db.select().from(providerAccounts).where(eq(providerAccounts.id, account.id));
		expect(row).toMatchObject({ currentJobs: 0, successCount: 2, avgGenerationSec: 4 });
		const held = await t.db.select().from(jobs).where(and(inArray(jobs.id, made.map((j) => j.id)), eq(jobs.holdsSlot, true)));
		expect(held).toHaveLength(0);
	});

	it('wakes many waiting messages in one statement: only those under the keys, and only while not yet running', async () => {
		const keys = Array.from({ length: 3 }, () => crypto.randomUUID());
		const later = new Date(Date.now() + 3_600_000);
		await enqueueMany(boss, 'generation.submit', [...keys, crypto.randomUUID()].map((k) => ({ payload: { job_id: k }, singletonKey: k, startAfter: later })));
		const before = await t.sql<{ singleton_key: string; keep: number }[]>`select singleton_key, extract(epoch from keep_until - start_after)::int as keep
			from pgboss.job where name = 'generation.submit' and singleton_key = any(${keys})`;

		const woken = await t.db.transaction((tx) => wakeKeyedMany(boss, 'generation.submit', [...keys.slice(0, 2), 'no-such-key'], { tx }));
		expect(woken).toBe(2);
		const after = await queued('generation.submit', keys);
		expect(after.filter((m) => m.due).map((m) => m.singleton_key).sort()).toEqual(keys.slice(0, 2).sort());
		// The retention window moved with the start, so pg-boss's sweep will not take a pending job for expired.
		const windows = await t.sql<{ singleton_key: string; keep: number }[]>`select singleton_key, extract(epoch from keep_until - start_after)::int as keep
			from pgboss.job where name = 'generation.submit' and singleton_key = any(${keys})`;
		for (const w of windows) expect(w.keep).toBe(before.find((b) => b.singleton_key === w.singleton_key)?.keep);
		// Nothing is due twice: a message already taken by a worker is not touched.
		await t.sql`update pgboss.job set state = 'active', started_on = now() where name = 'generation.submit' and singleton_key = ${keys[2]}`;
		expect(await t.db.transaction((tx) => wakeKeyedMany(boss, 'generation.submit', [keys[2]], { tx }))).toBe(0);
	});

	it('hands each freed slot to one waiting job, the longest waiting first, never to a job that does not wait', async () => {
		const { user } = await makeUser(t.db);
		const account = await makeAccount(t.db, { ownerId: user.id, credentials: { api_key: px.keys.a }, maxConcurrentJobs: 2 });
		const waiting: string[] = [];
		for (let i = 0; i < 3; i++) {
			const job = await makeJob(t.db, user.id);
			await t.db.update(jobs).set({ waitReason: 'The account for Pixverse is busy', updatedAt: new Date(Date.now() - (10 - i) * 1000) }).where(eq(jobs.id, job.id));
			waiting.push(job.id);
		}
		const fresh = await makeJob(t.db, user.id);
		const later = new Date(Date.now() + 3_600_000);
		await enqueueMany(boss, 'generation.submit', [...waiting, fresh.id].map((id) => ({ payload: { job_id: id }, singletonKey: id, startAfter: later })));

		await t.db.transaction((tx) => wakeWaiting(tx, boss, new Map([[account.id, 2]]), []));
		const due = (await queued('generation.submit', [...waiting, fresh.id])).filter((m) => m.due).map((m) => m.singleton_key);
		expect(due.sort()).toEqual(waiting.slice(0, 2).sort());
	});

	it('answers each message on its own: a job no longer queued is skipped, the rest are submitted', async () => {
		const { user } = await makeUser(t.db);
		await makeAccount(t.db, { ownerId: user.id, credentials: { api_key: px.keys.a }, maxConcurrentJobs: 5 });
		const live = await makeJob(t.db, user.id, { params: { prompt: 'still wanted' } });
		const cancelled = await makeJob(t.db, user.id, { status: 'cancelled' });
		const results = await submitJobs(ctx, [...submitMessages([live.id]), { id: 'gone', payload: { job_id: cancelled.id }, attempt }]);
		expect(results.get(`m-${live.id}-0`)).toMatchObject({ outcome: 'submitted' });
		expect(results.get('gone')).toMatchObject({ outcome: 'skipped' });
		const ledger = await t.db.select().from(providerSubmissions).where(eq(providerSubmissions.jobId, cancelled.id));
		expect(ledger).toHaveLength(0);
		const [row] = await t.db.select({ n: sql<number>`count(*)::int` }).from(jobs).where(and(eq(jobs.id, cancelled.id), eq(jobs.holdsSlot, true)));
		expect(row.n).toBe(0);
	});
});
