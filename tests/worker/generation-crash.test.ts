/**
 * Crash safety: the worker is killed (SIGKILL, no chance to clean up) while one job is being
 * submitted (the provider is slow to answer), one is being polled (the local renderer is still
 * "running") and one is being downloaded (the result file is slow to come). After a restart every
 * job completes exactly once: one asset each, one completed transition each, no slot left held,
 * the polled job is not submitted again, and the interrupted submit is recorded as such.
 */
import fs from 'node:fs';
import { and, asc, eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ensureBuiltinAccounts } from '../../src/lib/server/accounts/pool';
import { events, jobs, providerSubmissions, type Job, type User } from '../../src/lib/server/db/schema';
import { createJob } from '../../src/lib/server/jobs/service';
import { createBoss, ensureQueues, type PgBoss } from '../../src/lib/server/queue/boss';
import { makeAccount, testConfig } from '../support/accounts';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { makeUser } from '../support/factories';
import { ended, jobOutcome, slotsHeld, startGenerationWorker, tempRoot, waitForJob, waitUntil, workerEnv } from '../support/generation';
import { startPixverseStandin, type PixverseStandin } from '../support/pixverse-standin';
import type { WorkerProcess } from '../support/worker-process';

const KEYS = { submit: 'standin-key-submit-0123456789', download: 'standin-key-download-0123456789' };

let t: TestDatabase;
let root: string;
let px: PixverseStandin;
let boss: PgBoss;
let env: Record<string, string>;
const workers: WorkerProcess[] = [];

beforeAll(async () => {
	t = await createTestDatabase();
	root = tempRoot('gen-crash');
	px = await startPixverseStandin({ keys: KEYS, statuses: [1] });
	env = workerEnv({
		databaseUrl: t.url,
		root,
		env: { PIXVERSE_BASE_URL: px.url, PIXVERSE_POLL_MS: '100', PIXVERSE_TIMEOUT_MS: '120000', LOCAL_PROVIDER_DELAY_MS: '6000' }
	});
	await ensureBuiltinAccounts(t.db, testConfig(env));
	boss = createBoss(t.url, 'pgboss', 'web');
	await boss.start();
	await ensureQueues(boss);
}, 60_000);

afterAll(async () => {
	for (const w of workers) w.kill('SIGKILL');
	await boss?.stop({ graceful: false, timeout: 2000 }).catch(() => {});
	await px?.stop();
	await t?.destroy();
	fs.rmSync(root, { recursive: true, force: true });
});

async function pixverseUser(keyLabel: keyof typeof KEYS): Promise<User> {
	const { user } = await makeUser(t.db);
	await makeAccount(t.db, { ownerId: user.id, label: keyLabel, credentials: { api_key: KEYS[keyLabel] }, credits: { default: 500 } });
	return user;
}

const submissionsOf = (jobId: string) =>
	t.db.select().from(providerSubmissions).where(eq(providerSubmissions.jobId, jobId)).orderBy(asc(providerSubmissions.retryAttempt));

it('finishes every job exactly once after the worker is killed in submit, poll and download', async () => {
	const first = await startGenerationWorker({ databaseUrl: t.url, root, env });
	workers.push(first);
	const config = testConfig(env);
	const make = async (user: User, providerId: string, prompt: string): Promise<Job> =>
		(await createJob(t.db, boss, config, user, { operationType: 'text_to_video', providerId, params: { prompt } })).job;

	// Submit: the provider takes a minute to answer this one generate request.
	px.script({ prompt: /slow submit/, delayMs: 60_000, times: 1 });
	// Download: the first result file request stalls for a minute.
	px.script({ path: '/files/', delayMs: 60_000, times: 1 });
	const downloading = await make(await pixverseUser('download'), 'pixverse', 'slow download');
	await waitUntil(async () => px.requestsTo('/files/').length > 0, 'the result download to start');
	const submitting = await make(await pixverseUser('submit'), 'pixverse', 'slow submit');
	const { user: localUser } = await makeUser(t.db);
	const polling = await make(localUser, 'local', 'still rendering');

	await waitUntil(async () => (await submissionsOf(submitting.id)).some((s) => s.status === 'submitting'), 'the submit to be in flight');
	await waitForJob(t.db, polling.id, (j) => j.status === 'processing', first);
	// The polled task has been asked about at least once (the poll stage is running, not just queued).
	await waitUntil(async () => first.output().includes(`"job_id":"${polling.id}"`) && first.output().includes('provider:status'), 'a poll');

	first.kill('SIGKILL');
	await first.exited;
	for (const job of [submitting, polling, downloading]) {
		expect((await waitForJob(t.db, job.id, () => true)).status).not.toBe('completed');
	}
	// The submitting and the polled job hold their slots; the downloading one gave its slot back
	// when the provider reported its task finished (its download needs no slot at the provider).
	expect((await slotsHeld(t.db)).holdingJobs).toBe(2);

	const second = await startGenerationWorker({ databaseUrl: t.url, root, env });
	workers.push(second);
	for (const job of [submitting, polling, downloading]) {
		const done = await waitForJob(t.db, job.id, ended, second, 90_000);
		expect(done.status, done.errorMessage ?? '').toBe('completed');
		expect(await jobOutcome(t.db, job.id)).toEqual({ assets: 1, completedEvents: 1 });
		const [started] = await t.db
			.select({ n: sql<number>`count(*)::int` })
			.from(events)
			.where(and(eq(events.jobId, job.id), eq(events.type, 'job.started')));
		expect(started.n).toBe(1);
	}
	expect(await slotsHeld(t.db)).toEqual({ currentJobs: 0, holdingJobs: 0 });
	const [unfinished] = await t.db.select({ n: sql<number>`count(*)::int` }).from(jobs).where(sql`${jobs.status} <> 'completed'`);
	expect(unfinished.n).toBe(0);

	// The submit the provider never answered is closed as interrupted; a new attempt ran.
	const submits = await submissionsOf(submitting.id);
	expect(submits.map((s) => [s.retryAttempt, s.status, s.errorClass])).toEqual([
		[0, 'failed', 'transient'],
		[1, 'succeeded', null]
	]);
	expect(submits[0].errorMessage).toMatch(/Interrupted/);
	// The polled and the downloaded task were resumed, not submitted again.
	expect((await submissionsOf(polling.id)).map((s) => s.status)).toEqual(['succeeded']);
	expect((await submissionsOf(downloading.id)).map((s) => s.status)).toEqual(['succeeded']);
}, 180_000);
