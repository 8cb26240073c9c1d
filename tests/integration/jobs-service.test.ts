import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, type Config } from '../../src/lib/server/config';
import { assets, events, jobs, providerAccounts, providerSubmissions, type Job, type User } from '../../src/lib/server/db/schema';
import { ConflictError, NotFoundError, QuotaExceededError, ValidationError } from '../../src/lib/server/errors';
import { reserveAccount } from '../../src/lib/server/accounts/pool';
import { requeueJob } from '../../src/lib/server/generation/job-state';
import { onParentFinished } from '../../src/lib/server/jobs/children';
import { queueDueJob } from '../../src/lib/server/jobs/scheduling';
import { cancelJob, createJob, getJob, listJobs, listSubmissions, retryJob, type CreateJobInput } from '../../src/lib/server/jobs/service';
import { createBoss, ensureQueues, type PgBoss } from '../../src/lib/server/queue/boss';
import { makeAccount, testConfig } from '../support/accounts';
import { makeAsset } from '../support/asset-rows';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { makeUser } from '../support/factories';
import { registerFixtureProvider } from '../support/fixture-provider';

let t: TestDatabase;
let boss: PgBoss;
let config: Config;

beforeAll(async () => {
	registerFixtureProvider();
	t = await createTestDatabase();
	boss = createBoss(t.url, 'pgboss', 'web');
	await boss.start();
	await ensureQueues(boss);
	config = loadConfig({ DATA_DIR: '/tmp/pixsim7-jobs-test', QUOTA_JOBS_PER_DAY: '1000' });
});
afterAll(async () => {
	await boss?.stop({ graceful: false, timeout: 2000 }).catch(() => {});
	await t?.destroy();
});

const textJob = (overrides: Partial<CreateJobInput> = {}): CreateJobInput => ({
	operationType: 'text_to_video',
	providerId: 'local',
	params: { prompt: 'a red fox in the snow' },
	...overrides
});

/** The queued pg-boss messages about a job, as the worker would fetch them. */
async function queueMessages(jobId: string) {
	return t.sql<{ name: string; priority: number; start_after: Date; data: Record<string, string> }[]>`
		select name, priority, start_after, data from pgboss.job where data->>'job_id' = ${jobId} or data->>'submission_id' in
			(select id::text from provider_submissions where job_id = ${jobId}::uuid)`;
}

async function eventTypes(jobId: string): Promise<string[]> {
	const rows = await t.db.select({ type: events.type }).from(events).where(eq(events.jobId, jobId)).orderBy(events.id);
	return rows.map((r) => r.type);
}

async function setStatus(job: Job, changes: Partial<Job>): Promise<Job> {
	const [row] = await t.db.update(jobs).set(changes).where(eq(jobs.id, job.id)).returning();
	return row;
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
	try {
		await promise;
	} catch (err) {
		return err;
	}
	throw new Error('expected a rejection');
}

describe('createJob', () => {
	it('queues a valid job, copies the prompt, enqueues submit with its priority and publishes created + queued', async () => {
		const { user } = await makeUser(t.db);
		const { job, created } = await createJob(t.db, boss, config, user, textJob({ priority: 2, name: 'fox' }));
		expect(created).toBe(true);
		expect(job).toMatchObject({ status: 'queued', prompt: 'a red fox in the snow', priority: 2, name: 'fox', ownerId: user.id });
		// The provider's schema output is stored (its default filled in).
		expect(job.params).toEqual({ prompt: 'a red fox in the snow', duration: 3, seed: 0, aspect_ratio: '16:9' });
		expect(job.queuedAt).toBeInstanceOf(Date);
		const messages = await queueMessages(job.id);
		expect(messages).toHaveLength(1);
		expect(messages[0]).toMatchObject({ name: 'generation.submit', priority: 8, data: { job_id: job.id } });
		expect(await eventTypes(job.id)).toEqual(['job.created', 'job.queued']);
		const [usage] = await t.sql`select jobs_created from daily_usage where user_id = ${user.id}`;
		expect(usage.jobs_created).toBe(1);
	});

	it('answers 400 with a clear message for an unknown provider, an unsupported operation and bad params', async () => {
		const { user } = await makeUser(t.db);
		const unknown = (await rejection(createJob(t.db, boss, config, user, textJob({ providerId: 'nope' })))) as ValidationError;
		expect(unknown).toBeInstanceOf(ValidationError);
		expect(unknown.message).toContain('nope');
		expect(unknown.fields).toHaveProperty('provider_id');

		// The fixture provider offers text_to_video only.
		const unsupported = (await rejection(
			createJob(t.db, boss, config, user, textJob({ providerId: 'fixture', operationType: 'video_extend' }))
		)) as ValidationError;
		expect(unsupported).toBeInstanceOf(ValidationError);
		expect(unsupported.fields).toHaveProperty('operation_type');

		const bad = (await rejection(
			createJob(t.db, boss, config, user, textJob({ params: { prompt: '', duration: 99 } }))
		)) as ValidationError;
		expect(bad).toBeInstanceOf(ValidationError);
		expect(Object.keys(bad.fields).sort()).toEqual(['params.duration', 'params.prompt']);

		// Nothing was created or counted.
		expect((await listJobs(t.db, user, { limit: 10 })).items).toEqual([]);
		expect(await t.sql`select * from daily_usage where user_id = ${user.id} and jobs_created > 0`).toHaveLength(0);
	});

	it('takes input assets only when they are the user’s own, ready and not in the trash', async () => {
		const { user } = await makeUser(t.db);
		const { user: other } = await makeUser(t.db);
		const mine = await makeAsset(t.db, user.id);
		const theirs = await makeAsset(t.db, other.id);
		const processing = await makeAsset(t.db, user.id, { status: 'processing' });
		const trashed = await makeAsset(t.db, user.id, { deletedAt: new Date() });
		const i2v = (imageAssetId: string) =>
			textJob({ operationType: 'image_to_video', params: { prompt: 'move', image_asset_id: imageAssetId } });

		const { job } = await createJob(t.db, boss, config, user, i2v(mine.id));
		expect(job.params.image_asset_id).toBe(mine.id);

		const foreign = (await rejection(createJob(t.db, boss, config, user, i2v(theirs.id)))) as ValidationError;
		expect(foreign).toBeInstanceOf(ValidationError);
		expect(foreign.fields).toEqual({ 'params.image_asset_id': ['No asset of yours has this id.'] });

		const notReady = (await rejection(createJob(t.db, boss, config, user, i2v(processing.id)))) as ConflictError;
		expect(notReady).toBeInstanceOf(ConflictError);
		expect(notReady.fields).toEqual({ 'params.image_asset_id': ['This asset is not ready yet.'] });

		const inTrash = (await rejection(createJob(t.db, boss, config, user, i2v(trashed.id)))) as ValidationError;
		expect(inTrash.fields['params.image_asset_id'][0]).toContain('trash');

		// Lists name the position of the bad id.
		const fusion = (await rejection(
			createJob(t.db, boss, config, user, textJob({ operationType: 'fusion', params: { prompt: 'mix', image_asset_ids: [mine.id, theirs.id] } }))
		)) as ValidationError;
		expect(fusion.fields).toEqual({ 'params.image_asset_ids.1': ['No asset of yours has this id.'] });
	});

	it('refuses another user’s workspace or parent job as not found', async () => {
		const { user } = await makeUser(t.db);
		const { user: other } = await makeUser(t.db);
		const [ws] = await t.sql`insert into workspaces (owner_id, name) values (${other.id}, 'theirs') returning id`;
		await expect(createJob(t.db, boss, config, user, textJob({ workspaceId: ws.id }))).rejects.toBeInstanceOf(NotFoundError);
		const { job: theirJob } = await createJob(t.db, boss, config, other, textJob());
		const err = (await rejection(createJob(t.db, boss, config, user, textJob({ parentJobId: theirJob.id })))) as ValidationError;
		expect(err.fields).toHaveProperty('parent_job_id');
	});

	it('counts the daily quota exactly under concurrency: limit 5, 20 parallel creates → 5 jobs, 15 quota_exceeded', async () => {
		const { user } = await makeUser(t.db);
		const limited = { ...user, quotaJobsPerDay: 5 } satisfies User;
		await t.sql`update users set quota_jobs_per_day = 5 where id = ${user.id}`;
		const results = await Promise.allSettled(
			Array.from({ length: 20 }, (_, i) => createJob(t.db, boss, config, limited, textJob({ params: { prompt: `p${i}` } })))
		);
		const ok = results.filter((r) => r.status === 'fulfilled');
		const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
		expect(ok).toHaveLength(5);
		expect(refused).toHaveLength(15);
		for (const r of refused) {
			expect(r.reason).toBeInstanceOf(QuotaExceededError);
			expect((r.reason as QuotaExceededError).status).toBe(429);
		}
		const [{ n }] = await t.sql`select count(*)::int as n from jobs where owner_id = ${user.id}`;
		expect(n).toBe(5);
		// Refused creates left no queue message behind.
		const [{ m }] = await t.sql`select count(*)::int as m from pgboss.job j join jobs on jobs.id::text = j.data->>'job_id' where jobs.owner_id = ${user.id}`;
		expect(m).toBe(5);
	});

	it('makes one job for concurrent identical requests with one Idempotency-Key, and refuses the key with another body', async () => {
		const { user } = await makeUser(t.db);
		const results = await Promise.all(
			Array.from({ length: 8 }, () =>
				createJob(t.db, boss, config, user, textJob({ params: { prompt: 'same', duration: 3 } }), { idempotencyKey: 'k-1' })
			)
		);
		const ids = new Set(results.map((r) => r.job.id));
		expect(ids.size).toBe(1);
		expect(results.filter((r) => r.created)).toHaveLength(1);
		const [{ n }] = await t.sql`select count(*)::int as n from jobs where owner_id = ${user.id}`;
		expect(n).toBe(1);
		const [usage] = await t.sql`select jobs_created from daily_usage where user_id = ${user.id}`;
		expect(usage.jobs_created).toBe(1);

		// Key order in params does not make it another request.
		const again = await createJob(t.db, boss, config, user, textJob({ params: { duration: 3, prompt: 'same' } }), { idempotencyKey: 'k-1' });
		expect(again).toMatchObject({ created: false, job: { id: [...ids][0] } });

		await expect(
			createJob(t.db, boss, config, user, textJob({ params: { prompt: 'other' } }), { idempotencyKey: 'k-1' })
		).rejects.toBeInstanceOf(ConflictError);
		// Keys are per user.
		const { user: other } = await makeUser(t.db);
		const theirs = await createJob(t.db, boss, config, other, textJob({ params: { prompt: 'same', duration: 3 } }), { idempotencyKey: 'k-1' });
		expect(theirs.created).toBe(true);
	});

	it('keeps a scheduled job pending and gives its queue message the scheduled start', async () => {
		const { user } = await makeUser(t.db);
		const at = new Date(Date.now() + 3600_000);
		const { job } = await createJob(t.db, boss, config, user, textJob({ scheduledAt: at }));
		expect(job.status).toBe('pending');
		expect(job.queuedAt).toBeNull();
		const [message] = await queueMessages(job.id);
		expect(message.name).toBe('generation.submit');
		expect(Math.abs(new Date(message.start_after).getTime() - at.getTime())).toBeLessThan(1000);
		expect(await eventTypes(job.id)).toEqual(['job.created']);

		// Its submit message arrives at that time: only then does it become queued.
		expect(await queueDueJob(t.db, boss, job.id)).toBeNull();
		await setStatus(job, { scheduledAt: new Date(Date.now() - 1000) });
		expect(await queueDueJob(t.db, boss, job.id)).toMatchObject({ id: job.id, status: 'queued' });
		expect(await eventTypes(job.id)).toEqual(['job.created', 'job.queued']);
		expect(await queueDueJob(t.db, boss, job.id)).toBeNull();
	});

	it('does not queue a due child whose parent has not completed', async () => {
		const { user } = await makeUser(t.db);
		const { job: parent } = await createJob(t.db, boss, config, user, textJob());
		const { job: child } = await createJob(t.db, boss, config, user, textJob({ parentJobId: parent.id }));
		expect(await queueDueJob(t.db, boss, child.id)).toBeNull();
		await setStatus(parent, { status: 'completed' });
		expect((await queueDueJob(t.db, boss, child.id))?.status).toBe('queued');
	});
});

describe('parent and child jobs', () => {
	it('keeps a child pending until the parent completes, then queues it with the parent’s asset where asked', async () => {
		const { user } = await makeUser(t.db);
		const { job: parent } = await createJob(t.db, boss, config, user, textJob());
		const { job: child } = await createJob(
			t.db,
			boss,
			config,
			user,
			textJob({ operationType: 'image_to_video', parentJobId: parent.id, params: { prompt: 'animate it', parent_asset_as: 'image_asset_id' } })
		);
		expect(child.status).toBe('pending');
		expect(child.params).toMatchObject({ prompt: 'animate it', parent_asset_as: 'image_asset_id' });
		expect(child.params).not.toHaveProperty('image_asset_id');
		expect(await queueMessages(child.id)).toEqual([]);

		// The pipeline's completion: the result is an asset, then the children.
		const result = await makeAsset(t.db, user.id, { sourceJobId: parent.id });
		await t.db.transaction(async (tx) => {
			const [done] = await tx.update(jobs).set({ status: 'completed', assetId: result.id }).where(eq(jobs.id, parent.id)).returning();
			await onParentFinished(tx, boss, done);
		});
		const { job: released } = await getJob(t.db, user, child.id);
		expect(released.status).toBe('queued');
		expect(released.params).toMatchObject({ prompt: 'animate it', image_asset_id: result.id });
		expect(released.params).not.toHaveProperty('parent_asset_as');
		expect((await queueMessages(child.id)).map((m) => m.name)).toEqual(['generation.submit']);
		expect(await eventTypes(child.id)).toEqual(['job.created', 'job.queued']);

		// A parent already completed: the child is queued at once with the asset.
		const { job: late } = await createJob(
			t.db,
			boss,
			config,
			user,
			textJob({ operationType: 'image_to_video', parentJobId: parent.id, params: { prompt: 'again', parent_asset_as: 'image_asset_id' } })
		);
		expect(late.status).toBe('queued');
		expect(late.params).toMatchObject({ prompt: 'again', image_asset_id: result.id });
	});

	it('holds a released child pending while the parent’s result is still processing, then queues it once ready', async () => {
		const { user } = await makeUser(t.db);
		const { job: parent } = await createJob(t.db, boss, config, user, textJob());
		const childInput = textJob({ operationType: 'image_to_video', parentJobId: parent.id, params: { parent_asset_as: 'image_asset_id' } });
		const { job: child } = await createJob(t.db, boss, config, user, childInput);
		// Stored, still thumbnailing: the job completes before its asset is ready.
		const result = await makeAsset(t.db, user.id, { status: 'processing', sourceJobId: parent.id });
		await t.db.transaction(async (tx) => {
			const [done] = await tx.update(jobs).set({ status: 'completed', assetId: result.id }).where(eq(jobs.id, parent.id)).returning();
			await onParentFinished(tx, boss, done);
		});
		const { job: held } = await getJob(t.db, user, child.id);
		expect(held).toMatchObject({ status: 'pending', params: { image_asset_id: result.id } });
		const [message] = await queueMessages(child.id);
		expect(new Date(message.start_after).getTime()).toBeGreaterThan(Date.now());
		// A child made now waits the same way.
		const { job: late } = await createJob(t.db, boss, config, user, childInput);
		expect(late.status).toBe('pending');

		// Its message arrives while the asset still processes: it looks again later.
		expect(await queueDueJob(t.db, boss, child.id)).toBeNull();
		expect(await queueMessages(child.id)).toHaveLength(2);
		await t.db.update(assets).set({ status: 'ready' }).where(eq(assets.id, result.id));
		expect(await queueDueJob(t.db, boss, child.id)).toMatchObject({ status: 'queued' });
		expect(await queueDueJob(t.db, boss, late.id)).toMatchObject({ status: 'queued' });
		expect(await eventTypes(child.id)).toEqual(['job.created', 'job.queued']);
	});

	it('fails a waiting child whose input failed processing, with the reason', async () => {
		const { user } = await makeUser(t.db);
		const { job: parent } = await createJob(t.db, boss, config, user, textJob());
		const { job: child } = await createJob(
			t.db,
			boss,
			config,
			user,
			textJob({ operationType: 'image_to_video', parentJobId: parent.id, params: { parent_asset_as: 'image_asset_id' } })
		);
		const result = await makeAsset(t.db, user.id, { status: 'processing' });
		await t.db.transaction(async (tx) => {
			const [done] = await tx.update(jobs).set({ status: 'completed', assetId: result.id }).where(eq(jobs.id, parent.id)).returning();
			await onParentFinished(tx, boss, done);
		});
		await t.db.update(assets).set({ status: 'failed' }).where(eq(assets.id, result.id));
		expect(await queueDueJob(t.db, boss, child.id)).toBeNull();
		expect((await getJob(t.db, user, child.id)).job).toMatchObject({
			status: 'failed',
			errorClass: 'request',
			errorMessage: `Input asset ${result.id} failed processing.`
		});
		expect(await eventTypes(child.id)).toEqual(['job.created', 'job.failed']);
		// A retry does not send it to the provider with that input either.
		expect((await retryJob(t.db, boss, user, child.id)).status).toBe('pending');
		expect(await queueDueJob(t.db, boss, child.id)).toBeNull();
		expect((await getJob(t.db, user, child.id)).job.status).toBe('failed');
	});

	it('cancels waiting descendants with the reason when the parent fails, and refuses new children of a failed parent', async () => {
		const { user } = await makeUser(t.db);
		const { job: parent } = await createJob(t.db, boss, config, user, textJob());
		const { job: child } = await createJob(t.db, boss, config, user, textJob({ parentJobId: parent.id }));
		const { job: grandchild } = await createJob(t.db, boss, config, user, textJob({ parentJobId: child.id }));
		await t.db.transaction(async (tx) => {
			const [failed] = await tx
				.update(jobs)
				.set({ status: 'failed', errorClass: 'request', errorMessage: 'moderated' })
				.where(eq(jobs.id, parent.id))
				.returning();
			await onParentFinished(tx, boss, failed);
		});
		expect((await getJob(t.db, user, child.id)).job).toMatchObject({ status: 'cancelled', errorMessage: `Parent job ${parent.id} failed` });
		expect((await getJob(t.db, user, grandchild.id)).job).toMatchObject({
			status: 'cancelled',
			errorMessage: `Parent job ${child.id} cancelled`
		});
		expect(await eventTypes(grandchild.id)).toEqual(['job.created', 'job.cancelled']);
		await expect(createJob(t.db, boss, config, user, textJob({ parentJobId: parent.id }))).rejects.toBeInstanceOf(ConflictError);
	});

	it('asks for parent_asset_as only with a parent', async () => {
		const { user } = await makeUser(t.db);
		const err = (await rejection(
			createJob(t.db, boss, config, user, textJob({ operationType: 'image_to_video', params: { prompt: 'x', parent_asset_as: 'image_asset_id' } }))
		)) as ValidationError;
		expect(err.fields).toHaveProperty('params.parent_asset_as');
	});
});

describe('cancel and retry', () => {
	async function account(ownerId: string | null = null) {
		const [row] = await t.db
			.insert(providerAccounts)
			.values({ providerId: 'fixture', label: 'acct', ownerId, credentialsEncrypted: 'x', maxConcurrentJobs: 2, currentJobs: 1 })
			.returning();
		return row;
	}

	it('cancels a queued job and its waiting children; a cancelled job cannot be cancelled again', async () => {
		const { user } = await makeUser(t.db);
		const { job } = await createJob(t.db, boss, config, user, textJob());
		const { job: child } = await createJob(t.db, boss, config, user, textJob({ parentJobId: job.id }));
		const cancelled = await cancelJob(t.db, boss, user, job.id);
		expect(cancelled).toMatchObject({ status: 'cancelled', errorClass: 'cancelled' });
		expect(cancelled.finishedAt).toBeInstanceOf(Date);
		expect((await getJob(t.db, user, child.id)).job).toMatchObject({ status: 'cancelled', errorMessage: `Parent job ${job.id} cancelled` });
		await expect(cancelJob(t.db, boss, user, job.id)).rejects.toBeInstanceOf(ConflictError);
		expect(await eventTypes(job.id)).toEqual(['job.created', 'job.queued', 'job.cancelled']);
	});

	it('cancels a processing job: releases its slot and enqueues generation.cancel for the latest task', async () => {
		const { user } = await makeUser(t.db);
		const acct = await account();
		const { job } = await createJob(t.db, boss, config, user, textJob());
		await setStatus(job, { status: 'processing', accountId: acct.id, holdsSlot: true, startedAt: new Date() });
		const [first] = await t.db
			.insert(providerSubmissions)
			.values({ jobId: job.id, providerId: 'fixture', accountId: acct.id, payload: {}, providerTaskId: 'task-1', status: 'failed' })
			.returning();
		const [latest] = await t.db
			.insert(providerSubmissions)
			.values({ jobId: job.id, providerId: 'fixture', accountId: acct.id, payload: {}, providerTaskId: 'task-2', retryAttempt: 1, previousSubmissionId: first.id, status: 'submitted' })
			.returning();

		const cancelled = await cancelJob(t.db, boss, user, job.id);
		expect(cancelled.status).toBe('cancelled');
		const [after] = await t.db.select().from(jobs).where(eq(jobs.id, job.id));
		expect(after.holdsSlot).toBe(false);
		const [a] = await t.db.select().from(providerAccounts).where(eq(providerAccounts.id, acct.id));
		expect(a.currentJobs).toBe(0);
		const cancels = await t.sql`select data from pgboss.job where name = 'generation.cancel' and data->>'submission_id' = ${latest.id}`;
		expect(cancels).toHaveLength(1);
		await expect(cancelJob(t.db, boss, user, job.id)).rejects.toBeInstanceOf(ConflictError);
	});

	it('retries only failed or cancelled jobs, without counting quota', async () => {
		const { user } = await makeUser(t.db);
		const { job } = await createJob(t.db, boss, config, user, textJob());
		await expect(retryJob(t.db, boss, user, job.id)).rejects.toBeInstanceOf(ConflictError);
		await setStatus(job, { status: 'completed' });
		await expect(retryJob(t.db, boss, user, job.id)).rejects.toBeInstanceOf(ConflictError);
		await setStatus(job, { status: 'failed', errorClass: 'transient', errorMessage: 'provider down', finishedAt: new Date() });
		const retried = await retryJob(t.db, boss, user, job.id);
		expect(retried).toMatchObject({ status: 'queued', retryCount: 1, errorClass: null, errorMessage: null, finishedAt: null });
		expect((await queueMessages(job.id)).filter((m) => m.name === 'generation.submit')).toHaveLength(2);
		const [usage] = await t.sql`select jobs_created from daily_usage where user_id = ${user.id}`;
		expect(usage.jobs_created).toBe(1);
		await cancelJob(t.db, boss, user, job.id);
		expect((await retryJob(t.db, boss, user, job.id)).retryCount).toBe(2);
	});
});

describe('cancel gives back what the provider never took', () => {
	const cost = { creditType: 'default', amount: 30 };
	const fixtureJob = () => textJob({ providerId: 'fixture', params: { prompt: 'a heron' } });

	/** A private account (only its owner's jobs compete for it) with 100 credits and one slot. */
	async function privateAccount(ownerId: string) {
		return makeAccount(t.db, { providerId: 'fixture', ownerId, credits: { default: 100 }, maxConcurrentJobs: 1 });
	}

	/** The job takes the account's slot and its credits, as the worker's submit does before uploading. */
	async function reserve(user: User, job: Job) {
		const reserved = await reserveAccount(t.db, testConfig(), { id: job.id, ownerId: user.id, providerId: job.providerId }, cost);
		expect(reserved).not.toBeNull();
		return jobRow(job.id);
	}

	async function jobRow(id: string) {
		return (await t.db.select().from(jobs).where(eq(jobs.id, id)))[0];
	}

	async function accountRow(id: string) {
		return (await t.db.select().from(providerAccounts).where(eq(providerAccounts.id, id)))[0];
	}

	/** The waiting job's keyed submit message (requeueSubmit), when it is due. */
	async function keyedSubmitDue(jobId: string): Promise<Date> {
		const [row] = await t.sql<{ start_after: Date }[]>`
			select start_after from pgboss.job where name = 'generation.submit' and singleton_key = ${jobId} and state = 'created'`;
		return new Date(row.start_after);
	}

	it('refunds a reserved job that was never submitted, and wakes the job that waits for its slot', async () => {
		const { user } = await makeUser(t.db);
		const acct = await privateAccount(user.id);
		const { job: holder } = await createJob(t.db, boss, config, user, fixtureJob());
		const reserved = await reserve(user, holder);
		expect(reserved).toMatchObject({ holdsSlot: true, accountId: acct.id, creditsCharged: { type: 'default', amount: 30 } });
		expect(await accountRow(acct.id)).toMatchObject({ currentJobs: 1, credits: { default: 70 } });

		// A second job found the slot taken: the worker put it back with a long backoff.
		const { job: waiter } = await createJob(t.db, boss, config, user, fixtureJob());
		await t.db.transaction((tx) => requeueJob(tx, boss, waiter, { waitReason: 'Every account is busy', delayMs: 60_000, refund: false }));
		expect((await keyedSubmitDue(waiter.id)).getTime()).toBeGreaterThan(Date.now() + 50_000);

		await cancelJob(t.db, boss, user, holder.id);
		expect(await jobRow(holder.id)).toMatchObject({ status: 'cancelled', holdsSlot: false, creditsCharged: null });
		expect(await accountRow(acct.id)).toMatchObject({ currentJobs: 0, credits: { default: 100 } });
		// The freed slot is handed on: the waiter's message is due now, not in a minute.
		expect((await keyedSubmitDue(waiter.id)).getTime()).toBeLessThanOrEqual(Date.now());
	});

	it('does not refund a processing job: the provider accepted its task', async () => {
		const { user } = await makeUser(t.db);
		const acct = await privateAccount(user.id);
		const { job } = await createJob(t.db, boss, config, user, fixtureJob());
		await reserve(user, job);
		await setStatus(job, { status: 'processing', startedAt: new Date() });
		await t.db
			.insert(providerSubmissions)
			.values({ jobId: job.id, providerId: 'fixture', accountId: acct.id, payload: {}, providerTaskId: 'task-1', status: 'submitted' });

		await cancelJob(t.db, boss, user, job.id);
		expect(await jobRow(job.id)).toMatchObject({ status: 'cancelled', holdsSlot: false, creditsCharged: { type: 'default', amount: 30 } });
		expect(await accountRow(acct.id)).toMatchObject({ currentJobs: 0, credits: { default: 70 } });
	});

	it('leaves the refund of an attempt the provider is answering to the submit run, and never refunds a spent charge', async () => {
		const { user } = await makeUser(t.db);
		const acct = await privateAccount(user.id);
		const { job: answering } = await createJob(t.db, boss, config, user, fixtureJob());
		await reserve(user, answering);
		await t.db
			.insert(providerSubmissions)
			.values({ jobId: answering.id, providerId: 'fixture', accountId: acct.id, payload: {}, status: 'submitting' });
		await cancelJob(t.db, boss, user, answering.id);
		expect(await jobRow(answering.id)).toMatchObject({ holdsSlot: false, creditsCharged: { amount: 30 } });
		expect(await accountRow(acct.id)).toMatchObject({ currentJobs: 0, credits: { default: 70 } });

		// Re-queued after an attempt the provider ran (its charge stays spent), then cancelled
		// before it reserved again: nothing of its own to give back.
		const { job: requeued } = await createJob(t.db, boss, config, user, fixtureJob());
		await reserve(user, requeued);
		await t.db.transaction((tx) => requeueJob(tx, boss, requeued, { waitReason: 'Retrying', delayMs: 60_000, refund: false }));
		await cancelJob(t.db, boss, user, requeued.id);
		expect(await jobRow(requeued.id)).toMatchObject({ holdsSlot: false, creditsCharged: { amount: 30 } });
		expect(await accountRow(acct.id)).toMatchObject({ currentJobs: 0, credits: { default: 40 } });
	});
});

describe('reading jobs', () => {
	it('lists newest first with filters and keyset pages that neither skip nor repeat', async () => {
		const { user } = await makeUser(t.db);
		const made: Job[] = [];
		for (let i = 0; i < 7; i++) {
			made.push((await createJob(t.db, boss, config, user, textJob({ params: { prompt: i % 2 ? `cat ${i}` : `dog ${i}` } }))).job);
		}
		// Same created_at for two rows: the id breaks the tie.
		await t.db.update(jobs).set({ createdAt: made[3].createdAt }).where(eq(jobs.id, made[4].id));
		const seen: string[] = [];
		let cursor: string | undefined;
		do {
			const page = await listJobs(t.db, user, { limit: 3, cursor });
			seen.push(...page.items.map((j) => j.id));
			cursor = page.nextCursor ?? undefined;
		} while (cursor);
		expect(seen).toHaveLength(7);
		expect(new Set(seen).size).toBe(7);
		expect(seen[0]).toBe(made[6].id);

		expect((await listJobs(t.db, user, { q: 'CAT', limit: 50 })).items.map((j) => j.prompt).sort()).toEqual(['cat 1', 'cat 3', 'cat 5']);
		await cancelJob(t.db, boss, user, made[0].id);
		expect((await listJobs(t.db, user, { status: 'cancelled', limit: 50 })).items.map((j) => j.id)).toEqual([made[0].id]);
		expect((await listJobs(t.db, user, { operationType: 'fusion', limit: 50 })).items).toEqual([]);
		expect((await listJobs(t.db, user, { providerId: 'local', limit: 50 })).items).toHaveLength(7);
		expect((await listJobs(t.db, user, { providerId: 'pixverse', limit: 50 })).items).toEqual([]);
		await expect(listJobs(t.db, user, { cursor: 'garbage', limit: 5 })).rejects.toBeInstanceOf(ValidationError);
	});

	it('gives a queued job its 1-based place among every user’s queued jobs by priority, then queue time', async () => {
		const { user } = await makeUser(t.db);
		const { user: other } = await makeUser(t.db);
		// Start from an empty queue in this database.
		await t.db.update(jobs).set({ status: 'completed' }).where(eq(jobs.status, 'queued'));
		const a = (await createJob(t.db, boss, config, user, textJob({ priority: 5 }))).job;
		const b = (await createJob(t.db, boss, config, other, textJob({ priority: 5 }))).job;
		const c = (await createJob(t.db, boss, config, user, textJob({ priority: 1 }))).job;
		expect((await getJob(t.db, user, c.id)).queuePosition).toBe(1);
		expect((await getJob(t.db, user, a.id)).queuePosition).toBe(2);
		expect((await getJob(t.db, other, b.id)).queuePosition).toBe(3);
		const listed = await listJobs(t.db, user, { limit: 10 });
		expect(Object.fromEntries(listed.queuePositions)).toEqual({ [c.id]: 1, [a.id]: 2 });
		await cancelJob(t.db, boss, user, c.id);
		expect((await getJob(t.db, user, c.id)).queuePosition).toBeNull();
		expect((await getJob(t.db, other, b.id)).queuePosition).toBe(2);
	});

	it('lists a job’s submissions with account labels and secrets redacted', async () => {
		const { user } = await makeUser(t.db);
		const { job } = await createJob(t.db, boss, config, user, textJob());
		const [acct] = await t.db
			.insert(providerAccounts)
			.values({ providerId: 'fixture', label: 'Main account', credentialsEncrypted: 'x' })
			.returning();
		await t.db.insert(providerSubmissions).values({
			jobId: job.id,
			providerId: 'fixture',
			accountId: acct.id,
			payload: { prompt: 'p', api_key: 'sk-live', nested: { Authorization: 'Bearer x', seed: 3 } },
			response: { task_id: 't', token: 'abc' },
			providerTaskId: 't'
		});
		const [row] = await listSubmissions(t.db, user, job.id);
		expect(row.accountLabel).toBe('Main account');
		const { submissionJson } = await import('../../src/lib/server/jobs/json');
		const json = submissionJson(row.submission, row.accountLabel);
		expect(json.payload).toEqual({ prompt: 'p', api_key: '[redacted]', nested: { Authorization: '[redacted]', seed: 3 } });
		expect(json.response).toEqual({ task_id: 't', token: '[redacted]' });
		expect(JSON.stringify(json)).not.toContain('sk-live');
	});

	it('answers not found for another user’s job everywhere', async () => {
		const { user } = await makeUser(t.db);
		const { user: mallory } = await makeUser(t.db);
		const { job } = await createJob(t.db, boss, config, user, textJob());
		await expect(getJob(t.db, mallory, job.id)).rejects.toBeInstanceOf(NotFoundError);
		await expect(cancelJob(t.db, boss, mallory, job.id)).rejects.toBeInstanceOf(NotFoundError);
		await expect(retryJob(t.db, boss, mallory, job.id)).rejects.toBeInstanceOf(NotFoundError);
		await expect(listSubmissions(t.db, mallory, job.id)).rejects.toBeInstanceOf(NotFoundError);
		expect((await listJobs(t.db, mallory, { limit: 50 })).items).toEqual([]);
		expect((await getJob(t.db, user, job.id)).job.status).toBe('queued');
	});
});
