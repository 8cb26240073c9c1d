/**
 * Sending the follow-up stages. Poll and download go to stately queues keyed by the submission,
 * so at most one of each is waiting per task however often the sweep or a retry re-sends it.
 */
import type { DbOrTx } from '../db/client';
import type { Job } from '../db/schema';
import { bossPriority } from '../jobs/queueing';
import { enqueue, enqueueKeyed, type PgBoss } from '../queue/boss';

const after = (delayMs: number) => (delayMs > 0 ? { startAfter: new Date(Date.now() + delayMs) } : {});

export async function enqueuePoll(boss: PgBoss, submissionId: string, options: { tx?: DbOrTx; delayMs?: number } = {}): Promise<void> {
	await enqueue(boss, 'generation.poll', { submission_id: submissionId }, { tx: options.tx, singletonKey: submissionId, ...after(options.delayMs ?? 0) });
}

export async function enqueueDownload(boss: PgBoss, submissionId: string, options: { tx?: DbOrTx } = {}): Promise<void> {
	await enqueue(boss, 'generation.download', { submission_id: submissionId }, { tx: options.tx, singletonKey: submissionId });
}

export async function enqueueProviderCancel(boss: PgBoss, submissionId: string, options: { tx?: DbOrTx } = {}): Promise<void> {
	await enqueue(boss, 'generation.cancel', { submission_id: submissionId }, { tx: options.tx });
}

/**
 * Re-sends a job that must wait (no free account, a retry after a transient failure), keyed by
 * the job: a job has at most one such message, and wakeWaitingSubmits (jobs/queueing.ts) can move
 * it forward.
 */
export async function requeueSubmit(boss: PgBoss, job: Pick<Job, 'id' | 'priority'>, { tx, delayMs }: { tx?: DbOrTx; delayMs: number }): Promise<void> {
	await enqueueKeyed(boss, 'generation.submit', { job_id: job.id }, {
		tx,
		singletonKey: job.id,
		startAfter: new Date(Date.now() + delayMs),
		priority: bossPriority(job.priority)
	});
}
