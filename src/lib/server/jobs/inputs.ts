/** Whether a job's input assets can be sent to its provider yet. */
import { and, eq, inArray } from 'drizzle-orm';
import type { DbOrTx } from '../db/client';
import { assets, type Job } from '../db/schema';
import { findProvider } from '../providers/registry';

/** Seconds between looks at an input asset that is still processing. */
export const INPUT_WAIT_SECONDS = 2;

export type InputState = 'ready' | 'processing' | { failed: string };

/** Whether the job's input assets are ready, still processing, or unusable (and why). */
export async function inputAssetsState(
	db: DbOrTx,
	job: Pick<Job, 'providerId' | 'operationType' | 'params' | 'ownerId'>
): Promise<InputState> {
	const provider = findProvider(job.providerId);
	if (!provider) return { failed: `No provider "${job.providerId}".` };
	const ids = [...new Set(provider.inputAssets(job.operationType, job.params).map((r) => r.assetId))];
	if (ids.length === 0) return 'ready';
	const rows = await db
		.select({ id: assets.id, status: assets.status, purgedAt: assets.purgedAt })
		.from(assets)
		.where(and(inArray(assets.id, ids), eq(assets.ownerId, job.ownerId)));
	for (const id of ids) {
		const row = rows.find((r) => r.id === id);
		if (!row || row.purgedAt) return { failed: `Input asset ${id} no longer exists.` };
		if (row.status === 'failed') return { failed: `Input asset ${id} failed processing.` };
	}
	return rows.every((r) => r.status === 'ready') ? 'ready' : 'processing';
}
