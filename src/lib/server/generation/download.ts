/**
 * generation.download: streams a finished task's result into storage and makes it an asset the
 * way uploads become assets (content-addressed original, storage charged, ingest queued), with the
 * provider's ids, the source job and lineage rows from the job's inputs. Everything that says the
 * job is done (asset row, lineage, ingest job, submission succeeded, job completed, events,
 * children released) commits in ONE transaction under the job's row lock. The account's slot and
 * its success count were settled when the provider reported success (poll.ts).
 *
 * Idempotent: the bytes land under their hash (a second download finds the same file), the unique
 * (provider_id, provider_asset_id) index and the owner's (owner_id, sha256) index make a second
 * run find the existing asset instead of making one, and the job's status decides who commits.
 * A job cancelled at any point before that transaction never gets an asset.
 */
import { and, eq, inArray, isNull, ne } from 'drizzle-orm';
import { lockStorageKey } from '../assets/service';
import type { Db, DbOrTx } from '../db/client';
import { assets, jobs, providerSubmissions, users, type Asset, type Job, type ProviderSubmission } from '../db/schema';
import { ConflictError } from '../errors';
import { enqueueIngest } from '../ingest/service';
import { addLineage } from '../lineage/service';
import { sniffContent } from '../media';
import { findProvider } from '../providers/registry';
import { ProviderError, type Provider } from '../providers/types';
import { originalKey, type Storage, type StoredTemp } from '../storage/local';
import { effectiveQuotas, recordAssetUsage, tryReserveStorage } from '../users/quotas';
import type { HandlerContext } from '../worker/handlers';
import { loadAccount } from './account-context';
import { asProviderError, handleAttemptFailure } from './failures';
import { completeJob, failJob, loadJob } from './job-state';
import { loadSubmission } from './ledger';

type Outcome = Record<string, unknown>;

export async function downloadResult(ctx: HandlerContext, submissionId: string): Promise<Outcome> {
	const { db, config, storage } = ctx;
	const submission = await loadSubmission(db, submissionId);
	if (!submission || submission.status !== 'submitted' || !submission.resultUrl || !submission.providerTaskId) {
		return { submission_id: submissionId, outcome: 'skipped', reason: submission ? `status ${submission.status}` : 'missing' };
	}
	const job = await loadJob(db, submission.jobId);
	if (!job || job.status !== 'processing') return { submission_id: submissionId, outcome: 'skipped', reason: `job ${job?.status ?? 'missing'}` };
	const log = ctx.log.child({ job_id: job.id, submission_id: submission.id, account_id: submission.accountId, user_id: job.ownerId });
	const provider = findProvider(submission.providerId);
	const account = await loadAccount(db, config, submission.accountId);
	if (!provider || !account) {
		await db.transaction((tx) => failJob(tx, ctx.boss, job.id, { errorClass: 'internal', message: 'The provider or its account is gone.', refund: false }));
		return { submission_id: submissionId, outcome: 'failed' };
	}

	let temp: StoredTemp;
	try {
		const stream = await provider.openResult(account.context, submission.resultUrl);
		temp = await storage.writeTemp(stream, config.MAX_UPLOAD_MB * 1024 * 1024);
	} catch (err) {
		const error = asProviderError(provider, err);
		// Result links are short-lived: a failed download is retried by pg-boss while the link may
		// still work; on the last attempt the job is retried from the start (a new task).
		if (error.cls === 'transient' && !ctx.attempt.final) throw err;
		return handleAttemptFailure(ctx, {
			job,
			provider,
			accountId: account.context.id,
			accountLabel: account.label,
			submission,
			stage: 'poll',
			error,
			inputAssetIds: []
		});
	}

	const kind = sniffContent(temp.head);
	if (!kind) {
		await storage.discard(temp);
		const message = 'The provider returned a file that is not an image or video.';
		return handleAttemptFailure(ctx, {
			job,
			provider,
			accountId: account.context.id,
			accountLabel: account.label,
			submission,
			stage: 'poll',
			error: new ProviderError('transient', message),
			inputAssetIds: []
		});
	}
	const storageKey = originalKey(temp.sha256, kind.extension);
	log.info({ sha256: temp.sha256, size: temp.size, mime: kind.mime }, 'pipeline:artifact');

	let outcome: Awaited<ReturnType<typeof storeResult>>;
	try {
		outcome = await storeResult(ctx, { job, submission, provider, temp, kind, storageKey });
	} catch (err) {
		await removeIfUnreferenced(db, storage, storageKey);
		throw err;
	} finally {
		await storage.discard(temp);
	}
	if (outcome.result !== 'completed') await removeIfUnreferenced(db, storage, storageKey);
	log.info({ asset_id: outcome.assetId, outcome: outcome.result, duplicate: outcome.duplicate }, 'pipeline:complete');
	return { job_id: job.id, submission_id: submission.id, asset_id: outcome.assetId, outcome: outcome.result };
}

interface StoreInput {
	job: Job;
	submission: ProviderSubmission;
	provider: Provider;
	temp: StoredTemp;
	kind: { mediaType: 'image' | 'video'; mime: string; extension: string };
	storageKey: string;
}

/** Thrown inside a completion transaction to roll it back when results do not fit their owner's quota. */
export class StorageQuotaFull extends Error {}

async function storeResult(
	ctx: HandlerContext,
	input: StoreInput
): Promise<{ result: 'completed' | 'skipped' | 'failed'; assetId: string | null; duplicate: boolean }> {
	try {
		return await completeWithAsset(ctx, input);
	} catch (err) {
		if (!(err instanceof StorageQuotaFull)) throw err;
		const message = 'The result does not fit your storage quota; free some space and retry the job.';
		await ctx.db.transaction((tx) => failJob(tx, ctx.boss, input.job.id, { errorClass: 'request', message, refund: false }));
		return { result: 'failed', assetId: null, duplicate: false };
	}
}

/**
 * The completion transaction. Rows every job touches (the job, its submission, the new asset) come
 * first; rows shared with other jobs (the owner: storage and daily usage) come last, so their locks are held only for the last statements and the commit: the
 * owner's row serialises all of that owner's completions.
 */
async function completeWithAsset(
	ctx: HandlerContext,
	{ job, submission, provider, temp, kind, storageKey }: StoreInput
): Promise<{ result: 'completed' | 'skipped'; assetId: string | null; duplicate: boolean }> {
	const { db, boss, storage, config } = ctx;
	const [owner] = await db.select().from(users).where(eq(users.id, job.ownerId));
	return db.transaction(async (tx) => {
		// The job's row lock: a cancel (or a second download) waits here, then sees the outcome.
		const [locked] = await tx.select().from(jobs).where(eq(jobs.id, job.id)).for('update');
		if (locked?.status !== 'processing') return { result: 'skipped' as const, assetId: null, duplicate: false };
		const taskId = submission.providerTaskId as string;

		await lockStorageKey(tx, storageKey);
		await storage.commitOriginal({ ...temp }, kind.extension);
		// commitOriginal moved (or dropped) the temp file: the caller's discard is then a no-op.

		const existing = await findExistingResult(tx, job.ownerId, provider.id, taskId, temp.sha256);
		let asset: Asset;
		if (existing) {
			asset = existing;
		} else {
			[asset] = await tx
				.insert(assets)
				.values({
					ownerId: job.ownerId,
					workspaceId: job.workspaceId,
					mediaType: kind.mediaType,
					mime: kind.mime,
					status: 'processing',
					sha256: temp.sha256,
					storageKey,
					fileSizeBytes: temp.size,
					storageBytesCharged: temp.size,
					originalFilename: resultFilename(job, kind.extension),
					providerId: provider.id,
					providerAssetId: taskId,
					providerAccountId: submission.accountId,
					remoteUrl: submission.resultUrl,
					syncStatus: 'downloaded',
					sourceJobId: job.id,
					downloadedAt: new Date()
				})
				.returning();
			await enqueueIngest(boss, asset.id, { tx });
		}
		await recordLineage(tx, job, provider, asset.id);
		await tx
			.update(providerSubmissions)
			.set({ status: 'succeeded' })
			.where(and(eq(providerSubmissions.id, submission.id), eq(providerSubmissions.status, 'submitted')));
		// The slot went back when the provider reported success (poll.ts); completeJob releases it
		// only if this result came another way.
		await completeJob(tx, boss, job.id, asset.id);
		if (!existing) {
			if (!(await tryReserveStorage(tx, job.ownerId, temp.size, effectiveQuotas(owner, config).storageBytes))) throw new StorageQuotaFull();
			await recordAssetUsage(tx, job.ownerId, 1, temp.size);
		}
		return { result: 'completed' as const, assetId: asset.id, duplicate: !!existing };
	});
}

/**
 * The asset this result already is: the same provider task (a second download), or the same
 * bytes among the owner's live assets (a deterministic provider rendering identical output; like
 * an upload of the same file, the job then points at the asset the owner already has).
 */
async function findExistingResult(tx: DbOrTx, ownerId: string, providerId: string, taskId: string, sha256: string): Promise<Asset | undefined> {
	const [byTask] = await tx
		.select()
		.from(assets)
		.where(and(eq(assets.providerId, providerId), eq(assets.providerAssetId, taskId)));
	if (byTask) return byTask;
	const [bySha] = await tx
		.select()
		.from(assets)
		.where(and(eq(assets.ownerId, ownerId), eq(assets.sha256, sha256), isNull(assets.purgedAt), ne(assets.status, 'failed')))
		.limit(1);
	return bySha;
}

/** Lineage from the inputs still live; an edge that would close a cycle (identical bytes) is left out. */
export async function recordLineage(tx: DbOrTx, job: Job, provider: Provider, childAssetId: string): Promise<void> {
	const inputs = provider.inputAssets(job.operationType, job.params).filter((i) => i.assetId !== childAssetId);
	if (inputs.length === 0) return;
	const live = await tx
		.select({ id: assets.id })
		.from(assets)
		.where(and(inArray(assets.id, inputs.map((i) => i.assetId)), eq(assets.ownerId, job.ownerId), isNull(assets.purgedAt)));
	const liveIds = new Set(live.map((a) => a.id));
	const parents = inputs.filter((i) => liveIds.has(i.assetId));
	try {
		await addLineage(tx, { childAssetId, parents, operationType: job.operationType, jobId: job.id });
	} catch (err) {
		if (!(err instanceof ConflictError)) throw err;
	}
}

export function resultFilename(job: Job, extension: string): string {
	const base = (job.name ?? job.operationType).replace(/[^\p{L}\p{N}._ -]+/gu, '').trim().slice(0, 80) || job.operationType;
	return `${base}-${job.id.slice(0, 8)}.${extension}`;
}

/** A committed original no row refers to (the transaction did not complete the job) goes again. */
export async function removeIfUnreferenced(db: Db, storage: Storage, storageKey: string): Promise<void> {
	await db.transaction(async (tx) => {
		await lockStorageKey(tx, storageKey);
		const [used] = await tx
			.select({ id: assets.id })
			.from(assets)
			.where(and(eq(assets.storageKey, storageKey), isNull(assets.purgedAt)))
			.limit(1);
		if (!used) await storage.remove(storageKey);
	});
}
