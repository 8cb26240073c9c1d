/**
 * The worker's side of a job's life: queued → processing → completed | failed, and back to queued
 * for a retry on another account or after a transient failure. Each transition is one conditional
 * UPDATE (it happens once, whoever races it: a user's cancel, a second delivery of the same stage)
 * plus, in the same transaction, its event, the slot release and the follow-up queue job.
 */
import { and, eq, inArray, sql } from 'drizzle-orm';
import { refundCredits } from '../accounts/pool';
import { anyId } from '../db/prepared';
import type { DbOrTx } from '../db/client';
import { jobs, type ErrorClass, type Job } from '../db/schema';
import { publishEvent, type EventType } from '../events/publish';
import { onParentFinished } from '../jobs/children';
import { jobJson } from '../jobs/json';
import { releaseAndWake } from '../jobs/slots';
import type { PgBoss } from '../queue/boss';
import { requeueSubmit } from './queue';

export async function loadJob(db: DbOrTx, id: string): Promise<Job | undefined> {
	const [row] = await db.select().from(jobs).where(eq(jobs.id, id));
	return row;
}

/**
 * Locks the jobs' rows in id order (two batches never wait on each other in a cycle) and answers
 * each one's status: a cancel or a second run of the same stage waits, then sees the outcome.
 */
export async function lockJobStatuses(tx: DbOrTx, ids: string[]): Promise<Map<string, Job['status']>> {
	if (ids.length === 0) return new Map();
	const locked = await tx.select({ id: jobs.id, status: jobs.status }).from(jobs).where(anyId(jobs.id, ids)).orderBy(jobs.id).for('update');
	return new Map(locked.map((j) => [j.id, j.status]));
}

export async function publishJob(tx: DbOrTx, type: EventType, job: Job): Promise<void> {
	await publishEvent(tx, { ownerId: job.ownerId, type, jobId: job.id, data: jobJson(job) });
}

/** The provider accepted the job: processing, with its start time. Null when the job left `queued` meanwhile (cancelled). */
export async function markProcessing(tx: DbOrTx, jobId: string): Promise<Job | null> {
	const [row] = await tx
		.update(jobs)
		.set({ status: 'processing', startedAt: sql`now()`, waitReason: null, progress: 0, updatedAt: sql`now()` })
		.where(and(eq(jobs.id, jobId), eq(jobs.status, 'queued')))
		.returning();
	if (row) await publishJob(tx, 'job.started', row);
	return row ?? null;
}

/**
 * Back to (or still in) the queue, to be sent again after `delayMs`: no account was free, an
 * account failed (failover), or a transient failure is being retried. The slot is released; the
 * credits are refunded when the provider never took the job. job.queued is published when the
 * user would see something change (the wait reason or the status).
 */
export async function requeueJob(
	tx: DbOrTx,
	boss: PgBoss,
	job: Job,
	{ waitReason, delayMs, refund }: { waitReason: string; delayMs: number; refund: boolean }
): Promise<Job | null> {
	await releaseAndWake(tx, boss, job.id);
	if (refund) await refundCredits(tx, job.id);
	const [row] = await tx
		.update(jobs)
		.set({ status: 'queued', waitReason, progress: null, updatedAt: sql`now()` })
		.where(and(eq(jobs.id, job.id), inArray(jobs.status, ['queued', 'processing'])))
		.returning();
	if (!row) return null;
	await requeueSubmit(boss, row, { tx, delayMs });
	if (job.status !== 'queued' || job.waitReason !== waitReason) await publishJob(tx, 'job.queued', row);
	return row;
}

/** Fails a job that has not ended: its slot goes back, its waiting children are cancelled. */
export async function failJob(
	tx: DbOrTx,
	boss: PgBoss,
	jobId: string,
	{ errorClass, message, refund }: { errorClass: ErrorClass; message: string; refund: boolean }
): Promise<Job | null> {
	// Released whatever the status: a job cancelled while this run reserved for it holds a slot too.
	await releaseAndWake(tx, boss, jobId);
	const [row] = await tx
		.update(jobs)
		.set({ status: 'failed', errorClass, errorMessage: message, waitReason: null, finishedAt: sql`now()`, updatedAt: sql`now()` })
		.where(and(eq(jobs.id, jobId), inArray(jobs.status, ['queued', 'processing'])))
		.returning();
	if (refund) await refundCredits(tx, jobId);
	if (!row) return null;
	await publishJob(tx, 'job.failed', row);
	await onParentFinished(tx, boss, row);
	return row;
}

/** The result is stored as an asset: completed, slot released, children released. Null when the job is no longer processing. */
export async function completeJob(tx: DbOrTx, boss: PgBoss, jobId: string, assetId: string): Promise<Job | null> {
	const [row] = await tx
		.update(jobs)
		.set({ status: 'completed', assetId, progress: 1, waitReason: null, finishedAt: sql`now()`, updatedAt: sql`now()` })
		.where(and(eq(jobs.id, jobId), eq(jobs.status, 'processing')))
		.returning();
	if (!row) return null;
	await releaseAndWake(tx, boss, jobId, row.accountId);
	await publishJob(tx, 'job.completed', row);
	await onParentFinished(tx, boss, row);
	return row;
}

/**
 * Records the provider's progress and publishes job.progress, at most once a second per job: the
 * condition on updated_at throttles across every worker process without any shared memory.
 */
export async function reportProgress(tx: DbOrTx, jobId: string, progress: number): Promise<boolean> {
	const value = Math.max(0, Math.min(1, progress));
	const [row] = await tx
		.update(jobs)
		.set({ progress: value, updatedAt: sql`now()` })
		.where(
			and(
				eq(jobs.id, jobId),
				eq(jobs.status, 'processing'),
				sql`${jobs.progress} is distinct from ${value}`,
				sql`${jobs.updatedAt} <= now() - interval '1 second'`
			)
		)
		.returning();
	if (row) await publishJob(tx, 'job.progress', row);
	return !!row;
}
