/**
 * A pending job becomes queued when nothing holds it back any more: its scheduled time has come,
 * its parent (if any) has completed, and its input assets are ready (a parent's result is stored
 * before its thumbnails, so a child can be released while that asset is still processing). The
 * worker's submit stage calls queueDueJob for a pending job's message; a job still waiting on an
 * input gets a new message a little later.
 */
import { eq, sql } from 'drizzle-orm';
import type { Db } from '../db/client';
import { jobs, type Job } from '../db/schema';
import { publishEvent } from '../events/publish';
import type { PgBoss } from '../queue/boss';
import { onParentFinished } from './children';
import { INPUT_WAIT_SECONDS, inputAssetsState } from './inputs';
import { jobJson } from './json';
import { enqueueSubmit } from './queueing';

/**
 * The job, now queued (job.queued published), or null when it stays as it is: not pending, not
 * due, its parent not completed, or an input still processing (then submit is sent again in
 * INPUT_WAIT_SECONDS). An input that failed fails the job (and its waiting children).
 */
export async function queueDueJob(db: Db, boss: PgBoss, jobId: string): Promise<Job | null> {
	return db.transaction(async (tx) => {
		const [row] = await tx
			.select({ job: jobs, due: sql<boolean>`(${jobs.scheduledAt} is null or ${jobs.scheduledAt} <= now())` })
			.from(jobs)
			.where(eq(jobs.id, jobId))
			.for('update');
		if (!row || row.job.status !== 'pending' || !row.due) return null;
		const job = row.job;
		if (job.parentJobId) {
			const [parent] = await tx.select({ status: jobs.status }).from(jobs).where(eq(jobs.id, job.parentJobId));
			// Its completion releases this job (children.ts); a failed parent has cancelled it.
			if (parent && parent.status !== 'completed') return null;
		}
		const inputs = await inputAssetsState(tx, job);
		if (inputs === 'processing') {
			await enqueueSubmit(boss, job, { tx, startAfter: INPUT_WAIT_SECONDS });
			return null;
		}
		if (inputs !== 'ready') {
			const [failed] = await tx
				.update(jobs)
				.set({ status: 'failed', errorClass: 'request', errorMessage: inputs.failed, finishedAt: sql`now()`, updatedAt: sql`now()` })
				.where(eq(jobs.id, job.id))
				.returning();
			await publishEvent(tx, { ownerId: failed.ownerId, type: 'job.failed', jobId: failed.id, data: jobJson(failed) });
			await onParentFinished(tx, boss, failed);
			return null;
		}
		const [queued] = await tx
			.update(jobs)
			.set({ status: 'queued', queuedAt: sql`now()`, updatedAt: sql`now()` })
			.where(eq(jobs.id, job.id))
			.returning();
		await publishEvent(tx, { ownerId: queued.ownerId, type: 'job.queued', jobId: queued.id, data: jobJson(queued) });
		return queued;
	});
}
