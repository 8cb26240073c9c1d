/**
 * generation.cancel: asks the provider to stop a task whose job was cancelled (or timed out), where
 * the provider can cancel at all. The job's own state was settled by whoever queued this (cancelJob
 * or the poll deadline); here only the provider call, the ledger row, and a slot a racing submit
 * may have re-taken for the ended job.
 */
import { and, eq } from 'drizzle-orm';
import { providerSubmissions } from '../db/schema';
import { releaseAndWake } from '../jobs/slots';
import { findProvider } from '../providers/registry';
import type { HandlerContext } from '../worker/handlers';
import { loadAccount } from './account-context';
import { asProviderError } from './failures';
import { loadJob } from './job-state';
import { loadSubmission } from './ledger';

const ENDED = new Set(['completed', 'failed', 'cancelled']);

export async function cancelSubmission(ctx: HandlerContext, submissionId: string): Promise<Record<string, unknown>> {
	const { db, config } = ctx;
	const submission = await loadSubmission(db, submissionId);
	if (!submission?.providerTaskId || submission.status === 'succeeded') {
		return { submission_id: submissionId, outcome: 'skipped', reason: submission ? `status ${submission.status}` : 'missing' };
	}
	const job = await loadJob(db, submission.jobId);
	const log = ctx.log.child({ job_id: submission.jobId, submission_id: submission.id, account_id: submission.accountId });
	const provider = findProvider(submission.providerId);
	const account = await loadAccount(db, config, submission.accountId);
	let providerCancelled = false;
	if (provider?.cancel && account) {
		try {
			await provider.cancel(account.context, submission.providerTaskId);
			providerCancelled = true;
		} catch (err) {
			const error = asProviderError(provider, err);
			// A transient failure is retried by pg-boss; the provider refusing is final.
			if (error.cls === 'transient' && !ctx.attempt.final) throw err;
			log.warn({ err_message: error.message, error_class: error.cls }, 'provider:cancel-failed');
		}
	}
	await db
		.update(providerSubmissions)
		.set({ status: 'cancelled', errorClass: 'cancelled', errorMessage: 'Cancelled with its job.' })
		.where(and(eq(providerSubmissions.id, submission.id), eq(providerSubmissions.status, 'submitted')));
	// Only for an ended job: a job re-queued since then may hold a slot for its next attempt.
	if (job && ENDED.has(job.status)) await db.transaction((tx) => releaseAndWake(tx, ctx.boss, job.id));
	log.info({ provider_cancelled: providerCancelled, can_cancel: !!provider?.cancel }, 'provider:cancel');
	return { submission_id: submissionId, outcome: providerCancelled ? 'cancelled' : 'not-cancellable' };
}
