/**
 * generation.submit: reserve an account, send the inputs through the upload cache, hand the job to
 * the provider, and queue the first poll.
 *
 * Crash safety, driven by what the database already says:
 * - a job already processing has its task id written: just queue its poll (or download) again;
 * - a job holding a slot from an earlier run reuses that reservation instead of taking a second;
 * - the ledger row is written (status submitting, exact payload) BEFORE the provider is called and
 *   the task id in the same transaction that queues the poll right after it answers. An attempt
 *   left in `submitting` (the worker died while the provider was answering) is an unknown: it is
 *   closed as a transient failure and a new attempt is submitted. The trade-off: the provider may
 *   have started a task for the lost attempt that nobody polls (a duplicate it may bill); the
 *   alternative, never resubmitting, would leave the job stuck forever. The window is one HTTP
 *   round trip.
 */
import { and, eq, inArray, isNull, sql } from 'drizzle-orm';
import { reserveAccount } from '../accounts/pool';
import { assets, providerSubmissions, type Asset, type Job } from '../db/schema';
import { ConflictError } from '../errors';
import { getAssetForProvider } from '../provider-uploads/service';
import { findProvider } from '../providers/registry';
import { ProviderError, type InputUploads, type OperationSpec, type Provider } from '../providers/types';
import type { HandlerContext } from '../worker/handlers';
import { loadAccount, type LoadedAccount } from './account-context';
import { asProviderError, handleAttemptFailure } from './failures';
import { failJob, loadJob, markProcessing, requeueJob } from './job-state';
import { attemptHistory, failSubmission, latestSubmission, startSubmission } from './ledger';
import { enqueueDownload, enqueuePoll, enqueueProviderCancel } from './queue';
import { explainNoAccount, waitDelayMs } from './wait-reason';
import { queueDueJob } from '../jobs/scheduling';
import { returnReservation } from '../jobs/slots';

type Outcome = Record<string, unknown>;

export async function submitJob(ctx: HandlerContext, jobId: string): Promise<Outcome> {
	const { db, boss } = ctx;
	const loaded = await loadJob(db, jobId);
	if (!loaded) return { job_id: jobId, outcome: 'skipped', reason: 'missing' };
	// A scheduled job's message arrives at its time with the job still pending: it joins the queue
	// now, unless a parent still holds it (jobs/scheduling.ts).
	const job = loaded.status === 'pending' ? ((await queueDueJob(db, boss, loaded.id)) ?? loaded) : loaded;
	if (job.status === 'processing') return resumeProcessing(ctx, job);
	if (job.status !== 'queued') return { job_id: jobId, outcome: 'skipped', reason: `status ${job.status}` };
	const log = ctx.log.child({ job_id: job.id, user_id: job.ownerId });

	const fail = async (message: string, errorClass: 'request' | 'internal' = 'request') => {
		await db.transaction((tx) => failJob(tx, boss, job.id, { errorClass, message, refund: true }));
		log.warn({ error_class: errorClass, err_message: message }, 'pipeline:failed');
		return { job_id: job.id, outcome: 'failed', reason: message };
	};
	const provider = findProvider(job.providerId);
	if (!provider) return fail(`The provider "${job.providerId}" is not available on this server.`, 'internal');
	const spec: OperationSpec | undefined = provider.operations[job.operationType];
	if (!spec) return fail(`${provider.label} cannot do ${job.operationType}.`);
	const parsed = spec.params.safeParse(job.params);
	if (!parsed.success) return fail(`The parameters are not valid for ${provider.label}: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
	const params = parsed.data as Record<string, unknown>;
	log.info({ provider_id: provider.id, operation_type: job.operationType }, 'pipeline:start');

	// An attempt still `submitting` was interrupted before its answer was recorded (see above).
	let previous = await latestSubmission(db, job.id);
	if (previous?.status === 'submitting') {
		await failSubmission(db, previous.id, {
			errorClass: 'transient',
			message: 'Interrupted before the provider answered (the worker stopped); submitted again'
		});
		log.warn({ submission_id: previous.id }, 'pipeline:interrupted-attempt');
		previous = await latestSubmission(db, job.id);
	}

	const reserved = await reserveFor(ctx, job, provider, spec, params, previous !== undefined);
	if ('waiting' in reserved) return reserved.waiting;
	const { account } = reserved;
	const accountLog = log.child({ account_id: account.context.id });

	const inputs = provider.inputAssets(job.operationType, params);
	const failure = (stage: 'upload' | 'submit', err: unknown, submission?: typeof previous) =>
		handleAttemptFailure(ctx, {
			job,
			provider,
			accountId: account.context.id,
			accountLabel: account.label,
			submission,
			previous,
			stage,
			error: asProviderError(provider, err),
			inputAssetIds: inputs.map((i) => i.assetId)
		});

	let uploads: InputUploads;
	try {
		uploads = await uploadInputs(ctx, job, provider, account, inputs);
	} catch (err) {
		return failure('upload', err);
	}
	let mapped: Record<string, unknown>;
	try {
		mapped = provider.mapParameters(job.operationType, params, uploads);
	} catch (err) {
		return failure('upload', new ProviderError('request', err instanceof Error ? err.message : String(err)));
	}

	const submission = await startSubmission(db, { jobId: job.id, providerId: provider.id, accountId: account.context.id, payload: mapped, previous });
	if (submission === 'taken') return { job_id: job.id, outcome: 'skipped', reason: 'another run is submitting this attempt' };
	if (submission === 'not-queued') {
		// Cancelled while this run reserved: the provider never saw this attempt, so the slot and
		// the credits go back (the cancel may have run first and given them back already).
		await db.transaction((tx) => returnReservation(tx, boss, job.id));
		return { job_id: job.id, outcome: 'skipped', reason: 'left the queue' };
	}
	const subLog = accountLog.child({ submission_id: submission.id });
	const started = Date.now();
	let answer: { taskId: string; response: unknown };
	try {
		answer = await provider.submit(account.context, job.operationType, mapped);
	} catch (err) {
		return failure('submit', err, submission);
	}
	const durationMs = Date.now() - started;

	const result = await db.transaction(async (tx) => {
		const [recorded] = await tx
			.update(providerSubmissions)
			.set({
				providerTaskId: answer.taskId,
				response: answer.response ?? null,
				status: 'submitted',
				respondedAt: sql`now()`,
				durationMs,
				deadlineAt: sql`now() + make_interval(secs => ${provider.deadlineMs / 1000}::float8)`
			})
			.where(and(eq(providerSubmissions.id, submission.id), eq(providerSubmissions.status, 'submitting')))
			.returning({ id: providerSubmissions.id });
		// Another run closed this attempt as interrupted meanwhile: the task is an orphan; stop it.
		if (!recorded) return 'orphan' as const;
		const processing = await markProcessing(tx, job.id);
		if (!processing) {
			// Cancelled while the provider was answering: the task must not run on for nothing.
			await enqueueProviderCancel(boss, submission.id, { tx });
			return 'cancelled' as const;
		}
		await enqueuePoll(boss, submission.id, { tx, delayMs: provider.pollIntervalMs });
		return 'submitted' as const;
	});
	if (result === 'orphan' && provider.cancel) {
		await provider.cancel(account.context, answer.taskId).catch(() => {});
	}
	subLog.info({ provider_task_id: answer.taskId, duration_ms: durationMs, outcome: result }, 'provider:submit');
	return { job_id: job.id, submission_id: submission.id, outcome: result };
}

/** A job already at the provider: its next stage is queued again (a second delivery, or a crash after submit). */
async function resumeProcessing(ctx: HandlerContext, job: Job): Promise<Outcome> {
	const latest = await latestSubmission(ctx.db, job.id);
	if (latest?.status !== 'submitted' || !latest.providerTaskId) return { job_id: job.id, outcome: 'skipped', reason: 'no running task' };
	if (latest.resultUrl) await enqueueDownload(ctx.boss, latest.id);
	else await enqueuePoll(ctx.boss, latest.id);
	return { job_id: job.id, submission_id: latest.id, outcome: 'resumed' };
}

/**
 * The account for this run: the one the job already holds a slot on (an earlier run reserved it
 * and stopped), else a fresh reservation, skipping accounts that already failed this job. With
 * none free the job waits in the queue, saying why, and is sent again with backoff.
 */
async function reserveFor(
	ctx: HandlerContext,
	job: Job,
	provider: Provider,
	spec: OperationSpec,
	params: Record<string, unknown>,
	triedBefore: boolean
): Promise<{ account: LoadedAccount } | { waiting: Outcome }> {
	const { db, boss, config } = ctx;
	if (job.holdsSlot && job.accountId) {
		const held = await loadAccount(db, config, job.accountId);
		if (held) return { account: held };
	}
	// A first attempt has no history to read (most jobs: one query less on the hot path).
	const history = triedBefore ? await attemptHistory(db, job) : { failedAccountIds: [] };
	const cost = spec.estimateCost(params);
	const reserved = await reserveAccount(db, config, job, cost, { excludeAccountIds: history.failedAccountIds });
	if (reserved) return { account: { context: reserved.context, label: reserved.account.label } };

	const why = await explainNoAccount(db, job, provider, cost, history.failedAccountIds);
	if (!why.wait) {
		await db.transaction((tx) => failJob(tx, boss, job.id, { errorClass: 'account', message: why.reason, refund: true }));
		return { waiting: { job_id: job.id, outcome: 'failed', reason: why.reason } };
	}
	const delayMs = waitDelayMs(job, why, config.GENERATION_WAIT_MAX_MS);
	await db.transaction((tx) => requeueJob(tx, boss, job, { waitReason: why.reason, delayMs, refund: false }));
	ctx.log.info({ job_id: job.id, wait_reason: why.reason, delay_ms: delayMs }, 'pipeline:waiting');
	return { waiting: { job_id: job.id, outcome: 'waiting', reason: why.reason } };
}

/** Each input's id at the provider for this account, uploaded once and cached (provider-uploads/). */
async function uploadInputs(
	ctx: HandlerContext,
	job: Job,
	provider: Provider,
	account: LoadedAccount,
	inputs: { assetId: string; relation: string }[]
): Promise<InputUploads> {
	if (inputs.length === 0) return {};
	const ids = [...new Set(inputs.map((i) => i.assetId))];
	const rows = await ctx.db
		.select()
		.from(assets)
		.where(and(inArray(assets.id, ids), eq(assets.ownerId, job.ownerId), isNull(assets.purgedAt)));
	const byId = new Map<string, Asset>(rows.map((a) => [a.id, a]));
	const uploads: InputUploads = {};
	for (const id of ids) {
		const asset = byId.get(id);
		if (!asset) throw new ProviderError('request', `Input asset ${id} is no longer available.`);
		const { providerUploadId } = await getAssetForProvider(
			ctx.db,
			ctx.storage,
			asset,
			{ providerId: provider.id, providerAccountId: account.context.id },
			(file) => provider.uploadAsset(account.context, { assetId: asset.id, path: file.path, mime: file.mime, mediaType: asset.mediaType })
		).catch((err: unknown) => {
			// Not ready / missing file: the input's fault, not the provider's.
			if (err instanceof ConflictError) throw new ProviderError('request', `Input asset ${id}: ${err.message}`);
			throw err;
		});
		uploads[id] = providerUploadId;
	}
	return uploads;
}
