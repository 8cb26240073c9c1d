/**
 * What a failed attempt does to its job, by the error's class (providers/types.ts):
 * - request (bad input, moderation): the job fails at once, no other account is tried. Credits
 *   come back when the provider never ran the task (refused at submit) or says it refunded them.
 * - account (auth, balance, concurrency): the account is cooled down or marked exhausted and the
 *   job goes back to the queue to run on another account (failover); it fails only when every
 *   account that could take it has failed it.
 * - transient (outage, overload, timeout): retried with doubling backoff, at most
 *   GENERATION_TRANSIENT_RETRIES times; then the job fails with error_class transient.
 * A stale cached upload id (Pixverse 400032) is forgotten and the job re-sent once.
 */
import { recordAccountFailure, recordRequestFailure } from '../accounts/pool';
import type { Job, ProviderSubmission } from '../db/schema';
import { forgetProviderUpload } from '../provider-uploads/service';
import { ProviderError, type Provider } from '../providers/types';
import type { HandlerContext } from '../worker/handlers';
import { failJob, requeueJob } from './job-state';
import { attemptHistory, failSubmission, recordFailedAttempt } from './ledger';

export type FailureStage = 'upload' | 'submit' | 'poll';

/** Any thrown value as a ProviderError with its class decided by the adapter. */
export function asProviderError(provider: Provider, err: unknown): ProviderError {
	if (err instanceof ProviderError) return err;
	const message = err instanceof Error ? err.message : String(err);
	return new ProviderError(provider.classifyError(err), message);
}

export interface AttemptFailure {
	job: Job;
	provider: Provider;
	accountId: string;
	accountLabel: string;
	/** The ledger row of the attempt; absent when it failed before one was written (an upload). */
	submission?: ProviderSubmission;
	previous?: ProviderSubmission;
	stage: FailureStage;
	error: ProviderError;
	/** Input asset ids, for forgetting stale upload ids. */
	inputAssetIds: string[];
}

export async function handleAttemptFailure(ctx: HandlerContext, f: AttemptFailure): Promise<Record<string, unknown>> {
	const { db, boss, config } = ctx;
	const { job, provider, error } = f;
	const log = ctx.log.child({ job_id: job.id, submission_id: f.submission?.id, account_id: f.accountId });
	const history = await attemptHistory(db, job);
	// The provider never ran the task when it refused it at submit (or we failed before submitting).
	const neverRan = f.stage !== 'poll';
	const errorClass = error.cls;
	const response = error.details.response ?? null;

	const outcome = await db.transaction(async (tx) => {
		if (f.submission) {
			const ended = await failSubmission(tx, f.submission.id, { errorClass, message: error.message, response });
			if (!ended) return 'already-handled' as const;
		} else {
			await recordFailedAttempt(tx, {
				jobId: job.id,
				providerId: provider.id,
				accountId: f.accountId,
				previous: f.previous,
				errorClass,
				message: error.message,
				response
			});
		}

		if (errorClass === 'request') {
			await recordRequestFailure(tx, f.accountId, error.message);
			if (error.details.staleUpload && !history.staleUploadRetried) {
				for (const assetId of f.inputAssetIds) {
					await forgetProviderUpload(tx, assetId, { providerId: provider.id, providerAccountId: f.accountId });
				}
				await requeueJob(tx, boss, job, { waitReason: 'Uploading the inputs again', delayMs: 0, refund: neverRan });
				return 'stale-upload-retry' as const;
			}
			await failJob(tx, boss, job.id, { errorClass: 'request', message: error.message, refund: neverRan || error.details.refunded === true });
			return 'failed' as const;
		}

		if (errorClass === 'account') {
			const status = await recordAccountFailure(tx, config, f.accountId, error);
			const reason =
				status === 'exhausted'
					? `Account "${f.accountLabel}" has no credits left; trying another account`
					: `Account "${f.accountLabel}" failed (${error.message}); trying another account`;
			await requeueJob(tx, boss, job, { waitReason: reason, delayMs: 0, refund: neverRan || error.details.refunded === true });
			return 'failover' as const;
		}

		const failures = history.transientFailures + 1;
		if (failures > config.GENERATION_TRANSIENT_RETRIES) {
			await failJob(tx, boss, job.id, {
				errorClass: 'transient',
				message: `${error.message} (gave up after ${failures} attempts)`,
				refund: neverRan || error.details.refunded === true
			});
			return 'failed' as const;
		}
		const delayMs = Math.min(config.GENERATION_RETRY_BASE_MS * 2 ** (failures - 1), config.GENERATION_WAIT_MAX_MS);
		await requeueJob(tx, boss, job, {
			waitReason: `The provider had a temporary problem (${error.message}); retrying in ${Math.ceil(delayMs / 1000)} s`,
			delayMs,
			refund: neverRan || error.details.refunded === true
		});
		return 'retry' as const;
	});

	log.warn(
		{ stage: f.stage, error_class: errorClass, provider_code: error.details.code, err_message: error.message, outcome },
		'provider:failed'
	);
	return { job_id: job.id, outcome, error_class: errorClass };
}
