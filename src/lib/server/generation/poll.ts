/**
 * generation.poll: asks the provider how a task is doing, at the provider's cadence, until it ends
 * or its deadline passes. One poller per submission: each run queues its successor under the
 * submission's singletonKey (queue/jobs.ts), so re-sends never double the polling. The run that
 * sees the task succeed downloads its result too (download.ts).
 */
import { and, eq, sql } from 'drizzle-orm';
import { recordSuccess } from '../accounts/pool';
import { providerSubmissions } from '../db/schema';
import { releaseAndWake } from '../jobs/slots';
import { findProvider } from '../providers/registry';
import { ProviderError } from '../providers/types';
import type { HandlerContext } from '../worker/handlers';
import { loadAccount } from './account-context';
import { asProviderError, handleAttemptFailure } from './failures';
import { failJob, loadJob, reportProgress } from './job-state';
import { loadSubmission, failSubmission } from './ledger';
import { downloadResult } from './download';
import { enqueueDownload, enqueuePoll, enqueueProviderCancel } from './queue';

type Outcome = Record<string, unknown>;

export async function pollSubmission(ctx: HandlerContext, submissionId: string): Promise<Outcome> {
	const { db, boss, config } = ctx;
	const submission = await loadSubmission(db, submissionId);
	if (!submission || submission.status !== 'submitted' || !submission.providerTaskId) {
		return { submission_id: submissionId, outcome: 'skipped', reason: submission ? `status ${submission.status}` : 'missing' };
	}
	const job = await loadJob(db, submission.jobId);
	// Cancelled (cancelJob queued generation.cancel) or already ended: nothing to watch.
	if (!job || job.status !== 'processing') return { submission_id: submissionId, outcome: 'skipped', reason: `job ${job?.status ?? 'missing'}` };
	const log = ctx.log.child({ job_id: job.id, submission_id: submission.id, account_id: submission.accountId, user_id: job.ownerId });
	if (submission.resultUrl) {
		await enqueueDownload(boss, submission.id);
		return { submission_id: submissionId, outcome: 'download' };
	}
	const provider = findProvider(submission.providerId);
	const account = await loadAccount(db, config, submission.accountId);
	if (!provider || !account) {
		await db.transaction((tx) => failJob(tx, boss, job.id, { errorClass: 'internal', message: 'The provider or its account is gone.', refund: false }));
		return { submission_id: submissionId, outcome: 'failed' };
	}

	if (submission.deadlineAt && submission.deadlineAt.getTime() < Date.now()) {
		const minutes = Math.round(provider.deadlineMs / 60_000);
		const message = `The provider did not finish within ${minutes} minute${minutes === 1 ? '' : 's'}.`;
		await db.transaction(async (tx) => {
			await failSubmission(tx, submission.id, { errorClass: 'timeout', message });
			await failJob(tx, boss, job.id, { errorClass: 'timeout', message, refund: false });
			if (provider.cancel) await enqueueProviderCancel(boss, submission.id, { tx });
		});
		log.warn({ deadline_at: submission.deadlineAt }, 'provider:timeout');
		return { submission_id: submissionId, outcome: 'timeout' };
	}

	const failure = (err: unknown) =>
		handleAttemptFailure(ctx, {
			job,
			provider,
			accountId: account.context.id,
			accountLabel: account.label,
			submission,
			stage: 'poll',
			error: asProviderError(provider, err),
			inputAssetIds: provider.inputAssets(job.operationType, job.params).map((i) => i.assetId)
		});

	let status;
	try {
		status = await provider.checkStatus(account.context, submission.providerTaskId);
	} catch (err) {
		const error = asProviderError(provider, err);
		if (error.cls !== 'transient') return failure(error);
		// A status check that failed says nothing about the task: ask again later (the deadline bounds it).
		await enqueuePoll(boss, submission.id, { delayMs: provider.pollIntervalMs * 2 });
		log.warn({ err_message: error.message }, 'provider:status-unavailable');
		return { submission_id: submissionId, outcome: 'status-unavailable' };
	}
	log.info({ state: status.state, progress: status.progress }, 'provider:status');

	switch (status.state) {
		case 'pending':
		case 'running':
			await db.transaction(async (tx) => {
				if (status.progress !== undefined) await reportProgress(tx, job.id, status.progress);
				await enqueuePoll(boss, submission.id, { tx, delayMs: provider.pollIntervalMs });
			});
			return { submission_id: submissionId, outcome: status.state };
		case 'succeeded': {
			const url = status.resultUrls?.[0];
			if (!url) return failure(new ProviderError('transient', 'The provider reported success without a result.', { response: status.raw }));
			await db.transaction(async (tx) => {
				await tx
					.update(providerSubmissions)
					.set({ resultUrl: url, response: status.raw ?? submission.response })
					.where(and(eq(providerSubmissions.id, submission.id), eq(providerSubmissions.status, 'submitted'), sql`${providerSubmissions.resultUrl} is null`));
				// The provider has finished: its concurrency slot is free now, not after our download
				// (which needs no slot at the provider), and the next waiting job may take it. The
				// account's rows come last so their lock is held only until this commit.
				if (submission.accountId) {
					await releaseAndWake(tx, boss, job.id, submission.accountId);
					const seconds = submission.submittedAt ? (Date.now() - submission.submittedAt.getTime()) / 1000 : 0;
					await recordSuccess(tx, submission.accountId, seconds);
				}
			});
			log.info({ provider_task_id: submission.providerTaskId }, 'provider:complete');
			// This run downloads the result itself instead of handing it to generation.download:
			// one queue hop less per job (a send, a fetch, a completion, and the stage re-reading
			// the job, submission and account). Nothing is lost if it dies or fails here: pg-boss
			// retries this poll, which finds result_url set and sends generation.download (top of
			// this function), the stage with the download's own retry policy.
			const downloaded = await downloadResult(ctx, submission.id);
			return { submission_id: submissionId, outcome: 'succeeded', download: downloaded.outcome };
		}
		case 'failed':
			return failure(status.error ?? new ProviderError('transient', 'The provider reported a failure.', { response: status.raw }));
		case 'cancelled':
			// Not by us (the job is still processing): e.g. the provider released a stuck task. Try again.
			return failure(new ProviderError('transient', 'The provider cancelled the task.', { response: status.raw }));
	}
}
