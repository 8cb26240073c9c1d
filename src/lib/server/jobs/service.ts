/**
 * A user's generation jobs: creating them (validation, input assets, quota, idempotency, chaining,
 * scheduling), reading, cancelling and retrying. Every query is scoped to the owner: another
 * user's job is simply not found. The worker's side of a job's life is in generation/.
 */
import { createHash, randomUUID } from 'node:crypto';
import { and, desc, eq, inArray, isNotNull, sql } from 'drizzle-orm';
import type { Config } from '../config';
import type { Db, DbOrTx } from '../db/client';
import { assets, jobs, providerAccounts, providerSubmissions, type Job, type OperationType, type ProviderSubmission, type User } from '../db/schema';
import { ConflictError, NotFoundError, ValidationError, type FieldErrors } from '../errors';
import { publishEvent, publishEvents } from '../events/publish';
import { logger } from '../logger';
import { fieldErrors } from '../http/endpoint';
import { findProvider } from '../providers/registry';
import { enqueue, type PgBoss } from '../queue/boss';
import { consumeDailyJobs, giveBackDailyJobs } from '../users/quotas';
import { assertOwnWorkspace } from '../workspaces/service';
import { onParentFinished, PARENT_ASSET_AS, paramsWithParentAsset } from './children';
import { INPUT_WAIT_SECONDS, inputAssetsState } from './inputs';
import { jobJson } from './json';
import { queuePosition, queuePositions, selectJobPage, type JobFilters } from './queries';
import { enqueueSubmit } from './queueing';
import { releaseAndWake, returnReservation } from './slots';

export interface CreateJobInput {
	operationType: OperationType;
	providerId: string;
	params: Record<string, unknown>;
	workspaceId?: string | null;
	name?: string | null;
	priority?: number;
	scheduledAt?: Date | null;
	parentJobId?: string | null;
}

export interface JobWithPosition {
	job: Job;
	queuePosition: number | null;
}

const invalid = (fields: FieldErrors, message = 'Some fields are not valid.') => new ValidationError(message, fields);

/** Thrown inside the create transaction when another request already holds the idempotency key. */
class KeyTaken extends Error {}

/**
 * Creates a job. With an idempotency key, the same key and body answer the job made the first
 * time (`created: false`); the same key with another body is a conflict. The unique index on
 * (owner_id, idempotency_key) decides races: a concurrent twin waits on it, then finds the row.
 */
export async function createJob(
	db: Db,
	boss: PgBoss,
	config: Config,
	user: User,
	input: CreateJobInput,
	{ idempotencyKey }: { idempotencyKey?: string } = {}
): Promise<{ job: Job; created: boolean }> {
	const requestHash = idempotencyKey ? hashRequest(input) : null;
	if (idempotencyKey) {
		const existing = await findByKey(db, user.id, idempotencyKey, requestHash);
		if (existing) return { job: existing, created: false };
	}
	// Counted first, in a statement of its own: the day's usage row is locked only for that
	// statement, not until the whole create commits. Every create of the user passes through that
	// row; held to the end of each create (behind its commit and a round trip to this process) it
	// serialised them: npm run bench:jobs measured 12 ms per create waiting there, 12 s for 1000.
	// A create that then fails gives the count back; a crash between the two costs the user one job
	// of the day, never one over the limit.
	const day = await consumeDailyJobs(db, user, config);
	try {
		const job = await db.transaction((tx) => insertJob(tx, boss, config, user, input, idempotencyKey ?? null, requestHash));
		logger.info(
			{ job_id: job.id, user_id: user.id, provider_id: job.providerId, operation_type: job.operationType, status: job.status, parent_job_id: job.parentJobId },
			'job:created'
		);
		return { job, created: true };
	} catch (err) {
		await giveBackDailyJobs(db, user.id, 1, day);
		if (!(err instanceof KeyTaken) || !idempotencyKey) throw err;
		const existing = await findByKey(db, user.id, idempotencyKey, requestHash);
		if (!existing) throw err;
		return { job: existing, created: false };
	}
}

async function findByKey(db: DbOrTx, ownerId: string, key: string, requestHash: string | null): Promise<Job | null> {
	const [row] = await db
		.select()
		.from(jobs)
		.where(and(eq(jobs.ownerId, ownerId), eq(jobs.idempotencyKey, key)));
	if (!row) return null;
	if (row.requestHash !== requestHash) {
		throw new ConflictError('This Idempotency-Key was already used for a different request.');
	}
	return row;
}

async function insertJob(
	tx: DbOrTx,
	boss: PgBoss,
	config: Config,
	user: User,
	input: CreateJobInput,
	idempotencyKey: string | null,
	requestHash: string | null
): Promise<Job> {
	const provider = findProvider(input.providerId);
	if (!provider) throw invalid({ provider_id: [`No provider "${input.providerId}".`] }, `No provider "${input.providerId}".`);
	const spec = provider.operations[input.operationType];
	if (!spec) {
		const message = `${provider.label} cannot do ${input.operationType}.`;
		throw invalid({ operation_type: [message] }, message);
	}
	if (input.workspaceId) await assertOwnWorkspace(tx, user.id, input.workspaceId);

	// FOR SHARE: a parent finishing right now commits first (and we see its end) or waits for us
	// (and its onParentFinished sees this child). Either way the child is not left pending forever.
	const parent = input.parentJobId ? await lockParent(tx, user.id, input.parentJobId) : null;

	const { [PARENT_ASSET_AS]: parentAssetAs, ...userParams } = input.params;
	if (parentAssetAs !== undefined && (typeof parentAssetAs !== 'string' || !parent)) {
		throw invalid({
			[`params.${PARENT_ASSET_AS}`]: [
				parent ? 'Name the parameter that takes the parent job\'s result, e.g. "image_asset_id".' : 'Only a job with a parent_job_id can take its parent\'s result.'
			]
		});
	}
	// The parent's result stands in for that parameter; until it exists, a placeholder id lets
	// the provider's schema check everything else.
	const parentAssetField = typeof parentAssetAs === 'string' ? parentAssetAs : null;
	const parentDone = parent?.status === 'completed';
	const standIn = parentDone ? parent.assetId : randomUUID();
	const toValidate = parentAssetField ? { ...userParams, [parentAssetField]: standIn } : userParams;
	const parsed = spec.params.safeParse(toValidate);
	if (!parsed.success) throw invalid(prefixed('params', fieldErrors(parsed.error)));
	const validParams = parsed.data as Record<string, unknown>;

	await checkInputAssets(tx, user.id, provider.inputAssets(input.operationType, validParams), validParams, parentAssetField ? standIn : null);

	let params = validParams;
	if (parentAssetField && !parentDone) {
		const { [parentAssetField]: _standIn, ...rest } = validParams;
		params = { ...rest, [PARENT_ASSET_AS]: parentAssetField };
	}

	const now = new Date();
	const later = !!input.scheduledAt && input.scheduledAt.getTime() > now.getTime();
	const waitsForParent = !!parent && !parentDone;
	// A completed parent's result may still be thumbnailing: wait for it like a released child.
	const waitsForInput =
		!later && parentDone && parentAssetField !== null && (await inputAssetsState(tx, { ...input, ownerId: user.id, params })) !== 'ready';
	const status = waitsForParent || later || waitsForInput ? 'pending' : 'queued';

	const [job] = await tx
		.insert(jobs)
		.values({
			ownerId: user.id,
			workspaceId: input.workspaceId ?? null,
			name: input.name || null,
			operationType: input.operationType,
			providerId: provider.id,
			params,
			prompt: typeof params.prompt === 'string' ? params.prompt : null,
			status,
			priority: input.priority ?? 5,
			scheduledAt: input.scheduledAt ?? null,
			parentJobId: parent?.id ?? null,
			idempotencyKey,
			requestHash,
			queuedAt: status === 'queued' ? now : null
		})
		.onConflictDoNothing({ target: [jobs.ownerId, jobs.idempotencyKey], where: sql`${jobs.idempotencyKey} is not null` })
		.returning();
	if (!job) throw new KeyTaken();

	// A child waits for its parent's completion (children.ts enqueues it then).
	if (!waitsForParent) await enqueueSubmit(boss, job, { tx, ...(waitsForInput ? { startAfter: INPUT_WAIT_SECONDS } : {}) });
	const data = jobJson(job);
	await publishEvents(tx, [
		{ ownerId: user.id, type: 'job.created', jobId: job.id, data },
		...(status === 'queued' ? [{ ownerId: user.id, type: 'job.queued' as const, jobId: job.id, data }] : [])
	]);
	return job;
}

async function lockParent(tx: DbOrTx, ownerId: string, parentId: string): Promise<Job> {
	const [parent] = await tx
		.select()
		.from(jobs)
		.where(and(eq(jobs.id, parentId), eq(jobs.ownerId, ownerId)))
		.for('share');
	if (!parent) throw invalid({ parent_job_id: ['No job of yours has this id.'] });
	if (parent.status === 'failed' || parent.status === 'cancelled') {
		throw new ConflictError(`The parent job has ${parent.status}; retry it first.`, {
			parent_job_id: [`The parent job has ${parent.status}.`]
		});
	}
	return parent;
}

/**
 * Input assets must be the user's own, ready and not in the trash. Another user's id reads as
 * not found, like any id the user does not own. `trusted` is the parent's result (or its
 * placeholder): it is the user's by construction and may still be thumbnailing.
 */
async function checkInputAssets(
	tx: DbOrTx,
	ownerId: string,
	refs: { assetId: string; relation: string }[],
	params: Record<string, unknown>,
	trusted: string | null
): Promise<void> {
	const ids = [...new Set(refs.map((r) => r.assetId).filter((id) => id !== trusted))];
	if (ids.length === 0) return;
	const rows = await tx
		.select({ id: assets.id, status: assets.status, deletedAt: assets.deletedAt, purgedAt: assets.purgedAt })
		.from(assets)
		.where(and(inArray(assets.id, ids), eq(assets.ownerId, ownerId)));
	const byId = new Map(rows.map((r) => [r.id, r]));
	const missing: FieldErrors = {};
	const notReady: FieldErrors = {};
	for (const id of ids) {
		const row = byId.get(id);
		const field = `params.${paramPathOf(params, id) ?? 'assets'}`;
		if (!row || row.purgedAt) (missing[field] ??= []).push('No asset of yours has this id.');
		else if (row.deletedAt) (missing[field] ??= []).push('This asset is in the trash; restore it first.');
		else if (row.status !== 'ready') (notReady[field] ??= []).push(`This asset is ${row.status === 'failed' ? 'failed' : 'not ready yet'}.`);
	}
	if (Object.keys(missing).length) throw invalid(missing, 'Some input assets are not available.');
	// The request is fine; the asset is not there yet. 409 tells a script to retry later.
	if (Object.keys(notReady).length) throw new ConflictError('Some input assets are not ready yet.', notReady);
}

/** "image_asset_id" or "image_asset_ids.1": where in the params this asset id sits. */
function paramPathOf(params: Record<string, unknown>, assetId: string): string | null {
	for (const [key, value] of Object.entries(params)) {
		if (value === assetId) return key;
		if (Array.isArray(value)) {
			const i = value.indexOf(assetId);
			if (i >= 0) return `${key}.${i}`;
		}
	}
	return null;
}

function prefixed(prefix: string, fields: FieldErrors): FieldErrors {
	return Object.fromEntries(Object.entries(fields).map(([k, v]) => [k === '_' ? prefix : `${prefix}.${k}`, v]));
}

/** sha256 of the request with keys sorted at every depth, so key order does not matter. */
export function hashRequest(input: CreateJobInput): string {
	const canonical = {
		operation_type: input.operationType,
		provider_id: input.providerId,
		params: input.params,
		workspace_id: input.workspaceId ?? null,
		name: input.name ?? null,
		priority: input.priority ?? 5,
		scheduled_at: input.scheduledAt?.toISOString() ?? null,
		parent_job_id: input.parentJobId ?? null
	};
	return createHash('sha256').update(stableStringify(canonical)).digest('hex');
}

function stableStringify(value: unknown): string {
	if (Array.isArray(value)) return `[${value.map(stableStringify).join(',')}]`;
	if (value && typeof value === 'object') {
		const entries = Object.entries(value as Record<string, unknown>)
			.filter(([, v]) => v !== undefined)
			.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
		return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableStringify(v)}`).join(',')}}`;
	}
	return JSON.stringify(value) ?? 'null';
}

/** A page of the user's jobs, newest first, with the queue place of those queued (by job id). */
export async function listJobs(
	db: DbOrTx,
	user: User,
	filters: JobFilters
): Promise<{ items: Job[]; nextCursor: string | null; queuePositions: Map<string, number> }> {
	const page = await selectJobPage(db, user.id, filters);
	const queued = page.items.filter((j) => j.status === 'queued').map((j) => j.id);
	return { ...page, queuePositions: await queuePositions(db, queued) };
}

async function findOwnJob(db: DbOrTx, user: User, id: string, lock = false): Promise<Job> {
	const query = db
		.select()
		.from(jobs)
		.where(and(eq(jobs.id, id), eq(jobs.ownerId, user.id)));
	const [job] = lock ? await query.for('update') : await query;
	if (!job) throw new NotFoundError('Job');
	return job;
}

export async function getJob(db: DbOrTx, user: User, id: string): Promise<JobWithPosition> {
	const job = await findOwnJob(db, user, id);
	return { job, queuePosition: job.status === 'queued' ? await queuePosition(db, job.id) : null };
}

/**
 * Cancels a job that has not ended. One never submitted just stops; one at the provider also
 * gets generation.cancel for its latest task, so the worker asks the provider to stop (where the
 * provider can). Either way its slot is released (waking the job that waits longest for one) and
 * its waiting children are cancelled. Credits come back only for a reservation the provider never
 * took (see reservationUntaken); a processing job's task was accepted, and may be billed.
 */
export async function cancelJob(db: Db, boss: PgBoss, user: User, id: string): Promise<Job> {
	let fromStatus: Job['status'] | undefined;
	const cancelled = await db.transaction(async (tx) => {
		const job = await findOwnJob(tx, user, id, true);
		if (job.status === 'completed' || job.status === 'failed' || job.status === 'cancelled') {
			throw new ConflictError(`This job has already ${job.status === 'completed' ? 'completed' : job.status}.`);
		}
		const [cancelled] = await tx
			.update(jobs)
			.set({
				status: 'cancelled',
				errorClass: 'cancelled',
				errorMessage: 'Cancelled by the user.',
				waitReason: null,
				finishedAt: new Date(),
				updatedAt: new Date()
			})
			.where(eq(jobs.id, job.id))
			.returning();
		if (await reservationUntaken(tx, job)) await returnReservation(tx, boss, job.id);
		else await releaseAndWake(tx, boss, job.id, job.accountId);
		if (job.status === 'processing') {
			const [submission] = await tx
				.select({ id: providerSubmissions.id })
				.from(providerSubmissions)
				.where(and(eq(providerSubmissions.jobId, job.id), isNotNull(providerSubmissions.providerTaskId)))
				.orderBy(desc(providerSubmissions.createdAt))
				.limit(1);
			if (submission) await enqueue(boss, 'generation.cancel', { submission_id: submission.id }, { tx });
		}
		await publishEvent(tx, { ownerId: user.id, type: 'job.cancelled', jobId: job.id, data: jobJson(cancelled) });
		await onParentFinished(tx, boss, cancelled);
		fromStatus = job.status;
		return cancelled;
	});
	logger.info({ job_id: cancelled.id, user_id: user.id, from_status: fromStatus }, 'job:cancelled');
	return cancelled;
}

/**
 * Whether the job's reservation (slot and credits_charged) is one the provider never took: the job
 * holds a slot but is not processing, and no attempt is at the provider right now. A job without
 * a slot has nothing of its own to refund: a credits_charged left from an earlier attempt the
 * provider ran (and billed) stays spent. An attempt still `submitting` is settled by the submit run
 * when the provider answers (a refusal refunds, an acceptance is billed and the task cancelled);
 * startSubmission writes it under the job's row lock, which the caller holds, so it cannot appear
 * after this looks.
 */
async function reservationUntaken(tx: DbOrTx, job: Job): Promise<boolean> {
	if (!job.holdsSlot || job.status === 'processing') return false;
	const [inFlight] = await tx
		.select({ id: providerSubmissions.id })
		.from(providerSubmissions)
		.where(and(eq(providerSubmissions.jobId, job.id), eq(providerSubmissions.status, 'submitting')))
		.limit(1);
	return !inFlight;
}

/**
 * Puts a failed or cancelled job back in the queue. A retry is the same job again, not a new
 * one, so it does not count against the daily job quota.
 */
export async function retryJob(db: Db, boss: PgBoss, user: User, id: string): Promise<Job> {
	const retried = await db.transaction(async (tx) => {
		const job = await findOwnJob(tx, user, id, true);
		if (job.status !== 'failed' && job.status !== 'cancelled') {
			throw new ConflictError(`Only a failed or cancelled job can be retried; this one is ${job.status}.`);
		}
		let params = job.params;
		let waitsForParent = false;
		if (job.parentJobId) {
			const parent = await lockParent(tx, user.id, job.parentJobId);
			if (parent.status === 'completed') params = paramsWithParentAsset(params, parent.assetId);
			else waitsForParent = true;
		}
		const later = !!job.scheduledAt && job.scheduledAt.getTime() > Date.now();
		const waitsForInput = !waitsForParent && !later && (await inputAssetsState(tx, { ...job, params })) !== 'ready';
		const status = waitsForParent || later || waitsForInput ? 'pending' : 'queued';
		const [retried] = await tx
			.update(jobs)
			.set({
				params,
				status,
				errorClass: null,
				errorMessage: null,
				waitReason: null,
				progress: null,
				retryCount: job.retryCount + 1,
				queuedAt: status === 'queued' ? new Date() : null,
				startedAt: null,
				finishedAt: null,
				updatedAt: new Date()
			})
			.where(eq(jobs.id, job.id))
			.returning();
		if (!waitsForParent) await enqueueSubmit(boss, retried, { tx, ...(waitsForInput ? { startAfter: INPUT_WAIT_SECONDS } : {}) });
		if (status === 'queued') await publishEvent(tx, { ownerId: user.id, type: 'job.queued', jobId: job.id, data: jobJson(retried) });
		return retried;
	});
	logger.info({ job_id: retried.id, user_id: user.id, retry_count: retried.retryCount, status: retried.status }, 'job:retried');
	return retried;
}

export async function listSubmissions(
	db: DbOrTx,
	user: User,
	jobId: string
): Promise<{ submission: ProviderSubmission; accountLabel: string | null }[]> {
	await findOwnJob(db, user, jobId);
	const rows = await db
		.select({ submission: providerSubmissions, accountLabel: providerAccounts.label })
		.from(providerSubmissions)
		.leftJoin(providerAccounts, eq(providerAccounts.id, providerSubmissions.accountId))
		.where(eq(providerSubmissions.jobId, jobId))
		.orderBy(providerSubmissions.createdAt, providerSubmissions.retryAttempt);
	return rows;
}
