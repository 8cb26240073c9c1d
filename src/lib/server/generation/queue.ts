/**
 * Sending the follow-up stages. Poll and download go to stately queues keyed by the submission,
 * so at most one of each is waiting per task however often the sweep or a retry re-sends it.
 */
import type { DbOrTx } from '../db/client';
import { enqueue, type PgBoss } from '../queue/boss';

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
