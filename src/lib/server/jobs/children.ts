/**
 * Jobs chained to a parent (parent_job_id) wait in `pending` until the parent ends. A completed
 * parent releases them, handing over its result where a child asked for it (params
 * `parent_asset_as`); a failed or cancelled parent takes its waiting descendants down with it.
 */
import { and, eq, inArray } from 'drizzle-orm';
import type { DbOrTx } from '../db/client';
import { jobs, type Job } from '../db/schema';
import { publishEvent } from '../events/publish';
import type { PgBoss } from '../queue/boss';
import { INPUT_WAIT_SECONDS, inputAssetsState } from './inputs';
import { jobJson } from './json';
import { enqueueSubmit } from './queueing';

export const PARENT_ASSET_AS = 'parent_asset_as';

/**
 * The child's params with the parent's result in the field the child named, and the
 * `parent_asset_as` marker removed (so the provider sees only its own parameters).
 */
export function paramsWithParentAsset(params: Record<string, unknown>, parentAssetId: string | null): Record<string, unknown> {
	const field = params[PARENT_ASSET_AS];
	if (typeof field !== 'string') return params;
	const { [PARENT_ASSET_AS]: _marker, ...rest } = params;
	return parentAssetId ? { ...rest, [field]: parentAssetId } : params;
}

/** Called in the transaction that moved `parent` to completed, failed or cancelled. */
export async function onParentFinished(tx: DbOrTx, boss: PgBoss, parent: Job): Promise<void> {
	if (parent.status === 'completed') await releaseChildren(tx, boss, parent);
	else if (parent.status === 'failed' || parent.status === 'cancelled') await cancelDescendants(tx, parent);
}

async function releaseChildren(tx: DbOrTx, boss: PgBoss, parent: Job): Promise<void> {
	const children = await tx
		.select()
		.from(jobs)
		.where(and(eq(jobs.parentJobId, parent.id), eq(jobs.status, 'pending')))
		.for('update');
	for (const child of children) {
		const wantsAsset = typeof child.params[PARENT_ASSET_AS] === 'string';
		if (wantsAsset && !parent.assetId) {
			const [failed] = await tx
				.update(jobs)
				.set({
					status: 'failed',
					errorClass: 'request',
					errorMessage: `Parent job ${parent.id} completed without a result asset to use as ${String(child.params[PARENT_ASSET_AS])}`,
					finishedAt: new Date(),
					updatedAt: new Date()
				})
				.where(eq(jobs.id, child.id))
				.returning();
			await publishEvent(tx, { ownerId: failed.ownerId, type: 'job.failed', jobId: failed.id, data: jobJson(failed) });
			await cancelDescendants(tx, failed);
			continue;
		}
		const params = paramsWithParentAsset(child.params, parent.assetId);
		// A child scheduled for later stays pending; the queue holds it until its time. One whose
		// input (the parent's result, still thumbnailing) is not ready stays pending too: its submit
		// message looks again shortly (scheduling.ts queueDueJob).
		const later = child.scheduledAt !== null && child.scheduledAt.getTime() > Date.now();
		const waitsForInput = !later && (await inputAssetsState(tx, { ...child, params })) !== 'ready';
		const pending = later || waitsForInput;
		const [released] = await tx
			.update(jobs)
			.set({ params, status: pending ? 'pending' : 'queued', queuedAt: pending ? null : new Date(), updatedAt: new Date() })
			.where(eq(jobs.id, child.id))
			.returning();
		await enqueueSubmit(boss, released, { tx, ...(waitsForInput ? { startAfter: INPUT_WAIT_SECONDS } : {}) });
		if (!pending) await publishEvent(tx, { ownerId: released.ownerId, type: 'job.queued', jobId: released.id, data: jobJson(released) });
	}
}

/** Cancels every waiting descendant, level by level, each naming its own parent. */
async function cancelDescendants(tx: DbOrTx, parent: Job): Promise<void> {
	let level: Job[] = [parent];
	while (level.length > 0) {
		const next: Job[] = [];
		for (const p of level) {
			const cancelled = await tx
				.update(jobs)
				.set({
					status: 'cancelled',
					errorClass: 'cancelled',
					errorMessage: `Parent job ${p.id} ${p.status}`,
					waitReason: null,
					finishedAt: new Date(),
					updatedAt: new Date()
				})
				.where(and(eq(jobs.parentJobId, p.id), inArray(jobs.status, ['pending', 'queued'])))
				.returning();
			for (const child of cancelled) {
				await publishEvent(tx, { ownerId: child.ownerId, type: 'job.cancelled', jobId: child.id, data: jobJson(child) });
			}
			next.push(...cancelled);
		}
		level = next;
	}
}

