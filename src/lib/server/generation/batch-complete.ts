/**
 * generation.download for a whole fetched batch: the finished tasks' results downloaded side by
 * side, then ONE transaction makes them all assets and completes their jobs, with the same rows, events and order of locks as
 * download.ts's completion for one (which stays the reference for the rules): jobs locked in id
 * order, the files' keys locked, assets (or the owner's existing ones) recorded with their ingest
 * queued, submissions succeeded, jobs completed with their events and children released, and the
 * owners' storage and daily usage last, once per owner.
 *
 * Whatever does not fit (a download that fails, a file that is not media, a batch that would go
 * over an owner's storage quota, a submission not in the state this expects) goes through
 * downloadResult (download.ts) for that message alone, whose retries and failure rules apply.
 */
import { and, eq, isNull, ne, or, sql, type SQL } from 'drizzle-orm';
import { lockStorageKeys } from '../assets/service';
import type { DbOrTx } from '../db/client';
import { anyId } from '../db/prepared';
import { assets, jobs, providerSubmissions, users, type Asset } from '../db/schema';
import { publishEvents } from '../events/publish';
import { onParentFinished } from '../jobs/children';
import { jobJson } from '../jobs/json';
import { releaseSlots, wakeWaiting } from '../jobs/slots';
import { sniffContent, type SniffedType } from '../media';
import { enqueueMany } from '../queue/boss';
import { originalKey, type StoredTemp } from '../storage/local';
import { effectiveQuotas, recordAssetUsage, tryReserveStorage } from '../users/quotas';
import { findProvider } from '../providers/registry';
import type { HandlerContext, QueueMessage } from '../worker/handlers';
import { loadSubmissions, runBatch, type LoadedSubmission, type Results } from './batch';
import type { FinishedTask } from './batch-poll';
import { downloadResult, recordLineage, removeIfUnreferenced, resultFilename, StorageQuotaFull } from './download';
import { lockJobStatuses } from './job-state';


interface Fetched {
	task: FinishedTask<Message>;
	temp: StoredTemp;
	kind: SniffedType;
	storageKey: string;
}

type Message = QueueMessage<'generation.download'>;

export async function downloadResults(ctx: HandlerContext, messages: Message[]): Promise<Results> {
	const loaded = await loadSubmissions(
		ctx,
		messages.map((m) => m.payload.submission_id)
	);
	return runBatch(ctx, messages, {
		subject: (message) => message.payload.submission_id,
		candidate: (message) => fastCandidate(message, loaded.get(message.payload.submission_id)),
		batch: async (tasks, results, leftover) => {
			const { outcomes, handOff } = await completeResults(ctx, tasks);
			for (const task of tasks) {
				const outcome = outcomes.get(task.submission.id);
				if (outcome) results.set(task.message.id, { job_id: task.job.id, submission_id: task.submission.id, asset_id: outcome.assetId, outcome: outcome.result });
			}
			leftover.push(...handOff.map((t) => t.message));
		},
		one: (messageCtx, message) => downloadResult(messageCtx, message.payload.submission_id)
	});
}

/** The batchable case: a result recorded for a running task whose job is still processing. */
function fastCandidate(message: Message, loaded: LoadedSubmission | undefined): FinishedTask<Message> | null {
	if (!loaded?.account) return null;
	const { submission, job, account } = loaded;
	if (submission.status !== 'submitted' || !submission.resultUrl || !submission.providerTaskId || !submission.accountId) return null;
	if (job.status !== 'processing') return null;
	const provider = findProvider(submission.providerId);
	if (!provider) return null;
	return { message, submission: submission as FinishedTask<Message>['submission'], job, provider, account, url: submission.resultUrl, raw: submission.response };
}

/** Each result's outcome by submission id, and the tasks the batch left to the one-message way. */
async function completeResults(
	ctx: HandlerContext,
	finished: FinishedTask<Message>[]
): Promise<{ outcomes: Map<string, { result: 'completed' | 'skipped'; assetId: string | null }>; handOff: FinishedTask<Message>[] }> {
	const outcomes = new Map<string, { result: 'completed' | 'skipped'; assetId: string | null }>();
	const fetched: Fetched[] = [];
	const handOff: FinishedTask<Message>[] = [];
	await Promise.all(
		finished.map(async (task) => {
			try {
				const stream = await task.provider.openResult(task.account.context, task.url);
				const temp = await ctx.storage.writeTemp(stream, ctx.config.MAX_UPLOAD_MB * 1024 * 1024);
				const kind = sniffContent(temp.head);
				if (!kind) {
					await ctx.storage.discard(temp);
					handOff.push(task);
					return;
				}
				ctx.log.info({ job_id: task.job.id, submission_id: task.submission.id, sha256: temp.sha256, size: temp.size, mime: kind.mime }, 'pipeline:artifact');
				fetched.push({ task, temp, kind, storageKey: originalKey(temp.sha256, kind.extension) });
			} catch (err) {
				ctx.log.warn({ job_id: task.job.id, submission_id: task.submission.id, err_message: err instanceof Error ? err.message : String(err) }, 'pipeline:download-retry');
				handOff.push(task);
			}
		})
	);

	if (fetched.length > 0) {
		try {
			const stored = await storeAll(ctx, fetched);
			for (const f of fetched) {
				const outcome = stored.get(f.task.submission.id);
				if (outcome) outcomes.set(f.task.submission.id, outcome);
				ctx.log.info({ job_id: f.task.job.id, submission_id: f.task.submission.id, asset_id: outcome?.assetId ?? null, outcome: outcome?.result, duplicate: outcome?.duplicate ?? false }, 'pipeline:complete');
				if (outcome?.result !== 'completed') await removeIfUnreferenced(ctx.db, ctx.storage, f.storageKey);
			}
		} catch (err) {
			if (!(err instanceof StorageQuotaFull)) ctx.log.warn({ err }, 'pipeline:batch-fallback');
			for (const f of fetched) await removeIfUnreferenced(ctx.db, ctx.storage, f.storageKey);
			handOff.push(...fetched.map((f) => f.task));
		} finally {
			await Promise.all(fetched.map((f) => ctx.storage.discard(f.temp)));
		}
	}
	return { outcomes, handOff };
}

async function storeAll(ctx: HandlerContext, fetched: Fetched[]): Promise<Map<string, { result: 'completed' | 'skipped'; assetId: string | null; duplicate: boolean }>> {
	const { db, boss, storage, config } = ctx;
	const ownerIds = [...new Set(fetched.map((f) => f.task.job.ownerId))];
	const owners = await db.select().from(users).where(anyId(users.id, ownerIds));
	return db.transaction(async (tx) => {
		// Committed without waiting for its WAL flush. Its last statements lock the owners' shared
		// rows (today's usage, which every create of the owner also takes), held until the commit:
		// waiting for the flush there holds them back (as it did at the quota, users/quotas.ts;
		// here bench:jobs could not resolve the difference from its run-to-run drift). Nothing is risked:
		// pg-boss settles these messages afterwards with a commit that does wait, and WAL is written
		// in order, so that makes this durable too (as does anything later, such as the assets'
		// ingest); a crash before it loses this transaction whole, and the downloads run again.
		await tx.execute(sql`select set_config('synchronous_commit', 'off', true)`);
		const out = new Map<string, { result: 'completed' | 'skipped'; assetId: string | null; duplicate: boolean }>();
		const status = await lockJobStatuses(
			tx,
			fetched.map((f) => f.task.job.id)
		);
		const processing = new Set([...status].filter(([, s]) => s === 'processing').map(([id]) => id));
		const live = fetched.filter((f) => processing.has(f.task.job.id));
		for (const f of fetched) if (!processing.has(f.task.job.id)) out.set(f.task.submission.id, { result: 'skipped', assetId: null, duplicate: false });
		if (live.length === 0) return out;

		await lockStorageKeys(tx, [...new Set(live.map((f) => f.storageKey))]);
		// commitOriginal moves each temp file (the caller's discard is then a no-op), all at once:
		// one after another held this transaction's locks through a file-system round trip each.
		// Two results with the same bytes share a key; renaming both there is harmless (same bytes).
		// All settled before a failure is thrown: the caller's clean-up of the keys must not race a
		// rename still under way.
		const moved = await Promise.allSettled(live.map((f) => storage.commitOriginal(f.temp, f.kind.extension)));
		const failed = moved.find((m) => m.status === 'rejected');
		if (failed) throw failed.reason;

		const existing = await findExisting(tx, live);
		const fresh = new Map<string, Fetched>(); // one new asset per owner and bytes
		for (const f of live) {
			if (!existing.get(f.task.submission.id)) {
				const key = `${f.task.job.ownerId}:${f.temp.sha256}`;
				if (!fresh.has(key)) fresh.set(key, f);
			}
		}
		const inserted = fresh.size
			? await tx
					.insert(assets)
					.values(
						[...fresh.values()].map(({ task, temp, kind, storageKey }) => ({
							ownerId: task.job.ownerId,
							workspaceId: task.job.workspaceId,
							mediaType: kind.mediaType,
							mime: kind.mime,
							status: 'processing' as const,
							sha256: temp.sha256,
							storageKey,
							fileSizeBytes: temp.size,
							storageBytesCharged: temp.size,
							originalFilename: resultFilename(task.job, kind.extension),
							providerId: task.provider.id,
							providerAssetId: task.submission.providerTaskId,
							providerAccountId: task.submission.accountId,
							remoteUrl: task.url,
							syncStatus: 'downloaded' as const,
							sourceJobId: task.job.id,
							downloadedAt: new Date()
						}))
					)
					.returning()
			: [];
		const bySha = new Map(inserted.map((a) => [`${a.ownerId}:${a.sha256}`, a]));
		await enqueueMany(
			boss,
			'assets.ingest',
			inserted.map((a) => ({ payload: { asset_id: a.id } })),
			{ tx }
		);

		const assetOf = new Map<string, { asset: Asset; duplicate: boolean }>();
		for (const f of live) {
			const found = existing.get(f.task.submission.id);
			const asset = found ?? bySha.get(`${f.task.job.ownerId}:${f.temp.sha256}`)!;
			assetOf.set(f.task.job.id, { asset, duplicate: !!found || asset.sourceJobId !== f.task.job.id });
			if (f.task.provider.inputAssets(f.task.job.operationType, f.task.job.params).length > 0) {
				await recordLineage(tx, f.task.job, f.task.provider, asset.id);
			}
		}
		await tx
			.update(providerSubmissions)
			.set({ status: 'succeeded' })
			.where(
				and(
					anyId(providerSubmissions.id, live.map((f) => f.task.submission.id)),
					eq(providerSubmissions.status, 'submitted')
				)
			);
		const assetCase = sql.join(
			[...assetOf].map(([jobId, { asset }]) => sql`when ${jobId}::uuid then ${asset.id}::uuid`),
			sql` `
		);
		const completed = await tx
			.update(jobs)
			.set({ status: 'completed', assetId: sql`case ${jobs.id} ${assetCase} end`, progress: 1, waitReason: null, finishedAt: sql`now()`, updatedAt: sql`now()` })
			.where(and(anyId(jobs.id, [...assetOf.keys()]), eq(jobs.status, 'processing')))
			.returning();
		// The slots went back when the provider reported success; this frees any the jobs still hold.
		const freed = await releaseSlots(
			tx,
			completed.map((j) => ({ jobId: j.id }))
		);
		await wakeWaiting(
			tx,
			boss,
			freed,
			completed.map((j) => j.id)
		);
		await publishEvents(
			tx,
			completed.map((job) => ({ ownerId: job.ownerId, type: 'job.completed' as const, jobId: job.id, data: jobJson(job) }))
		);
		const parents = await tx
			.selectDistinct({ id: jobs.parentJobId })
			.from(jobs)
			.where(
				and(
					anyId(
						jobs.parentJobId,
						completed.map((j) => j.id)
					),
					eq(jobs.status, 'pending')
				)
			);
		for (const parent of completed.filter((j) => parents.some((p) => p.id === j.id))) await onParentFinished(tx, boss, parent);

		// Shared rows last, once per owner: their locks are held only for the last statements.
		for (const owner of owners) {
			const mine = inserted.filter((a) => a.ownerId === owner.id);
			if (mine.length === 0) continue;
			const bytes = mine.reduce((sum, a) => sum + (a.fileSizeBytes ?? 0), 0);
			if (!(await tryReserveStorage(tx, owner.id, bytes, effectiveQuotas(owner, config).storageBytes))) throw new StorageQuotaFull();
			await recordAssetUsage(tx, owner.id, mine.length, bytes);
		}
		const completedIds = new Set(completed.map((j) => j.id));
		for (const f of live) {
			const { asset, duplicate } = assetOf.get(f.task.job.id)!;
			out.set(
				f.task.submission.id,
				completedIds.has(f.task.job.id) ? { result: 'completed', assetId: asset.id, duplicate } : { result: 'skipped', assetId: null, duplicate: false }
			);
		}
		return out;
	});
}

/**
 * The assets these results already are, by submission: the same provider task (a second
 * download), or the same bytes among the owner's live assets (see download.ts findExistingResult).
 */
async function findExisting(tx: DbOrTx, live: Fetched[]): Promise<Map<string, Asset>> {
	const byTaskConditions: SQL[] = live.map((f) => and(eq(assets.providerId, f.task.provider.id), eq(assets.providerAssetId, f.task.submission.providerTaskId))!);
	const byShaConditions: SQL[] = live.map((f) => and(eq(assets.ownerId, f.task.job.ownerId), eq(assets.sha256, f.temp.sha256))!);
	const rows = await tx
		.select()
		.from(assets)
		.where(or(or(...byTaskConditions), and(or(...byShaConditions), isNull(assets.purgedAt), ne(assets.status, 'failed'))));
	const found = new Map<string, Asset>();
	for (const f of live) {
		const byTask = rows.find((a) => a.providerId === f.task.provider.id && a.providerAssetId === f.task.submission.providerTaskId);
		const bySha = rows.find((a) => a.ownerId === f.task.job.ownerId && a.sha256 === f.temp.sha256 && !a.purgedAt && a.status !== 'failed');
		const asset = byTask ?? bySha;
		if (asset) found.set(f.task.submission.id, asset);
	}
	return found;
}
