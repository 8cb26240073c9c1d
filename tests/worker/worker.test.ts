/**
 * The worker process end to end: it starts, announces its handlers, runs jobs sent through
 * pg-boss as the web process sends them, has its cron schedules in place, and stops on SIGTERM.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSession } from '../../src/lib/server/auth/sessions';
import { dailyUsage, sessions, users } from '../../src/lib/server/db/schema';
import { createBoss, enqueue, ensureQueues, type PgBoss } from '../../src/lib/server/queue/boss';
import { jobDefinitions } from '../../src/lib/server/queue/jobs';
import { utcDay } from '../../src/lib/server/users/quotas';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { makeUser } from '../support/factories';
import { parseLog, waitForLog } from '../support/logs';
import { startWorkerProcess, type WorkerProcess } from '../support/worker-process';

const SCHEMA = 'pgboss';

let t: TestDatabase;
let worker: WorkerProcess;
let boss: PgBoss;
const bossErrors: unknown[] = [];

beforeAll(async () => {
	t = await createTestDatabase();
	worker = startWorkerProcess({ DATABASE_URL: t.url, PGBOSS_SCHEMA: SCHEMA });
	await waitForLog(worker.output, (l) => l.msg === 'worker:ready', 45_000);
	boss = createBoss(t.url, SCHEMA, 'web');
	boss.on('error', (err) => bossErrors.push(err));
	await boss.start();
	await ensureQueues(boss);
});
afterAll(async () => {
	worker?.kill('SIGKILL');
	await boss?.stop({ graceful: false, timeout: 2000 }).catch(() => {});
	await t?.destroy();
});

/** Polls until the check passes (jobs run asynchronously in the other process). */
async function eventually(check: () => Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
	const deadline = Date.now() + timeoutMs;
	while (!(await check())) {
		if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}.\nWorker log:\n${worker.output()}\n${worker.errors()}`);
		await new Promise((r) => setTimeout(r, 100));
	}
}

describe('worker process', () => {
	it('logs worker:ready, as JSON, with a handler for every job', () => {
		const ready = parseLog(worker.output()).find((l) => l.msg === 'worker:ready');
		expect(ready).toMatchObject({ level: 30, service: 'worker' });
		expect(ready?.handlers).toEqual(expect.arrayContaining(['sessions.purge', 'usage.rollover']));
		expect(ready?.handlers).toEqual(expect.arrayContaining(Object.keys(jobDefinitions)));
	});

	it('runs sessions.purge sent through pg-boss: expired sessions go, live ones stay', async () => {
		const { user } = await makeUser(t.db); // with a live session
		const { session: expired } = await createSession(t.db, user.id, {}, 30);
		await t.db.update(sessions).set({ expiresAt: new Date(Date.now() - 60_000) }).where(eq(sessions.id, expired.id));

		const jobId = await enqueue(boss, 'sessions.purge', {});
		expect(jobId).toEqual(expect.any(String));
		await eventually(async () => (await t.db.select().from(sessions).where(eq(sessions.id, expired.id))).length === 0, 'the expired session to be purged');

		const left = await t.db.select().from(sessions).where(eq(sessions.userId, user.id));
		expect(left).toHaveLength(1);
		const done = await waitForLog(worker.output, (l) => l.msg === 'queue:done' && l.queue_job_id === jobId);
		// (A scheduled run at the top of the hour may have got there first, hence any number.)
		expect(done).toMatchObject({ queue: 'sessions.purge', purged: expect.any(Number), service: 'worker' });
	});

	it('runs usage.rollover sent through pg-boss: today’s row appears for active users, old rows go', async () => {
		const active = (await makeUser(t.db)).user;
		const inactive = (await makeUser(t.db)).user;
		await t.db.update(users).set({ isActive: false }).where(eq(users.id, inactive.id));
		await t.db.insert(dailyUsage).values({ userId: active.id, day: '2000-01-01', jobsCreated: 9 });
		const today = utcDay();

		const jobId = await enqueue(boss, 'usage.rollover', {});
		const todayRow = () => t.db.select().from(dailyUsage).where(and(eq(dailyUsage.userId, active.id), eq(dailyUsage.day, today)));
		await eventually(async () => (await todayRow()).length === 1, "today's usage row");

		expect((await todayRow())[0]).toMatchObject({ jobsCreated: 0, assetsCreated: 0, bytesAdded: 0 });
		expect(await t.db.select().from(dailyUsage).where(eq(dailyUsage.userId, inactive.id))).toEqual([]);
		const done = await waitForLog(worker.output, (l) => l.msg === 'queue:done' && l.queue_job_id === jobId);
		expect(done).toMatchObject({ queue: 'usage.rollover', opened: expect.any(Number), pruned: expect.any(Number) });
		expect(await t.db.select().from(dailyUsage).where(eq(dailyUsage.day, '2000-01-01'))).toEqual([]);
	});

	it('has put the cron schedules in place, in UTC', async () => {
		const schedules = await boss.getSchedules();
		const byName = Object.fromEntries(schedules.map((s) => [s.name, s]));
		expect(byName['sessions.purge']).toMatchObject({ cron: jobDefinitions['sessions.purge'].cron, timezone: 'UTC' });
		expect(byName['usage.rollover']).toMatchObject({ cron: jobDefinitions['usage.rollover'].cron, timezone: 'UTC' });
	});

	it('stops on SIGTERM within a few seconds, with exit code 0 and worker:stopped logged', async () => {
		const started = Date.now();
		worker.kill('SIGTERM');
		const code = await Promise.race([
			worker.exited,
			new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 10_000))
		]);
		expect(code).toBe(0);
		expect(Date.now() - started).toBeLessThan(5000);
		const messages = parseLog(worker.output()).map((l) => l.msg);
		expect(messages).toContain('worker:stopping');
		expect(messages.at(-1)).toBe('worker:stopped');
		// Nothing went wrong along the way.
		expect(parseLog(worker.output()).filter((l) => l.level >= 50)).toEqual([]);
		expect(bossErrors).toEqual([]);
		expect(worker.errors()).toBe('');
	});
});

describe('worker without a database', () => {
	it('refuses to start, saying why, with exit code 1', async () => {
		// A directory without a .env, so nothing fills DATABASE_URL in.
		const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'pixsim7-worker-'));
		try {
			const bare = startWorkerProcess({ DATABASE_URL: '' }, empty);
			expect(await bare.exited).toBe(1);
			const fatal = parseLog(bare.output()).find((l) => l.level === 60);
			expect(fatal?.msg).toMatch(/DATABASE_URL is not set/);
		} finally {
			fs.rmSync(empty, { recursive: true, force: true });
		}
	});
});
