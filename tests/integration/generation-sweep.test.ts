/**
 * The generation sweep on a real database and queue: it repairs what a crash can leave behind
 * with no memory of what happened. A slot still held by an ended job is released and counters are
 * recounted; a queued job whose queue message was lost is sent again; a running task whose poll
 * was lost is polled again, once however often the sweep runs; old events are pruned.
 */
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { events, jobs, providerAccounts, providerSubmissions } from '../../src/lib/server/db/schema';
import { sweepGeneration } from '../../src/lib/server/generation/sweep';
import { logger } from '../../src/lib/server/logger';
import { createBoss, ensureQueues, type PgBoss } from '../../src/lib/server/queue/boss';
import { createLocalStorage } from '../../src/lib/server/storage/local';
import type { HandlerContext } from '../../src/lib/server/worker/handlers';
import { makeAccount, makeJob, testConfig } from '../support/accounts';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { makeUser } from '../support/factories';
import { tempRoot } from '../support/generation';

let t: TestDatabase;
let boss: PgBoss;
let ctx: HandlerContext;

beforeAll(async () => {
	t = await createTestDatabase();
	boss = createBoss(t.url, 'pgboss', 'web');
	await boss.start();
	await ensureQueues(boss);
	ctx = {
		db: t.db,
		boss,
		config: testConfig(),
		log: logger,
		storage: createLocalStorage(tempRoot('sweep')),
		attempt: { retryCount: 0, final: false }
	};
});
afterAll(async () => {
	await boss?.stop({ graceful: false, timeout: 2000 }).catch(() => {});
	await t?.destroy();
});

const messages = (name: string, key: string) =>
	t.sql<{ id: string }[]>`select id from pgboss.job where name = ${name} and state = 'created'
		and (data->>'job_id' = ${key} or data->>'submission_id' = ${key})`;
const threeMinutesAgo = sql`now() - interval '3 minutes'`;

describe('generation sweep', () => {
	it('releases a slot held by an ended job and recounts the account', async () => {
		const { user } = await makeUser(t.db);
		const account = await makeAccount(t.db, { maxConcurrentJobs: 3, currentJobs: 2 });
		const ended = await makeJob(t.db, user.id, { status: 'completed', accountId: account.id, holdsSlot: true });
		const running = await makeJob(t.db, user.id, { status: 'processing', accountId: account.id, holdsSlot: true });

		expect(await sweepGeneration(ctx)).toMatchObject({ released: 1 });
		const [after] = await t.db.select().from(providerAccounts).where(eq(providerAccounts.id, account.id));
		expect(after.currentJobs).toBe(1);
		expect((await t.db.select().from(jobs).where(eq(jobs.id, ended.id)))[0].holdsSlot).toBe(false);
		expect((await t.db.select().from(jobs).where(eq(jobs.id, running.id)))[0].holdsSlot).toBe(true);
	});

	it('sends a queued job whose message was lost again, and leaves a recently queued one alone', async () => {
		const { user } = await makeUser(t.db);
		const lost = await makeJob(t.db, user.id, { status: 'queued' });
		await t.db.update(jobs).set({ updatedAt: threeMinutesAgo }).where(eq(jobs.id, lost.id));
		const fresh = await makeJob(t.db, user.id, { status: 'queued' });

		await sweepGeneration(ctx);
		expect(await messages('generation.submit', lost.id)).toHaveLength(1);
		expect(await messages('generation.submit', fresh.id)).toHaveLength(0);
	});

	it('polls a running task whose poll was lost, once however often it runs', async () => {
		const { user } = await makeUser(t.db);
		const account = await makeAccount(t.db);
		const job = await makeJob(t.db, user.id, { status: 'processing', accountId: account.id, holdsSlot: true });
		const [submission] = await t.db
			.insert(providerSubmissions)
			.values({ jobId: job.id, providerId: 'pixverse', accountId: account.id, payload: {}, providerTaskId: '42', status: 'submitted', createdAt: threeMinutesAgo })
			.returning();

		await sweepGeneration(ctx);
		await sweepGeneration(ctx);
		expect(await messages('generation.poll', submission.id)).toHaveLength(1);
	});

	it('prunes events older than a week', async () => {
		const { user } = await makeUser(t.db);
		const [old] = await t.db.insert(events).values({ ownerId: user.id, type: 'job.created', createdAt: sql`now() - interval '8 days'` }).returning();
		const [recent] = await t.db.insert(events).values({ ownerId: user.id, type: 'job.created' }).returning();
		expect((await sweepGeneration(ctx)).events_pruned).toBeGreaterThanOrEqual(1);
		const left = (await t.db.select({ id: events.id }).from(events)).map((e) => e.id);
		expect(left).toContain(recent.id);
		expect(left).not.toContain(old.id);
	});
});
