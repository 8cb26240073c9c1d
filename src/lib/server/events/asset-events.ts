/** asset.ready / asset.failed: a small summary, enough for a page to swap a tile or fetch the asset. */
import type { DbOrTx } from '../db/client';
import type { Asset } from '../db/schema';
import { publishEvent } from './publish';

export function assetEventData(asset: Asset) {
	return {
		id: asset.id,
		status: asset.status,
		media_type: asset.mediaType,
		mime: asset.mime,
		width: asset.width,
		height: asset.height,
		duration_sec: asset.durationSec,
		workspace_id: asset.workspaceId,
		source_job_id: asset.sourceJobId,
		error_message: asset.errorMessage,
		placeholder_hash: asset.placeholderHash
	};
}

/** Call in the transaction that changed the asset's status. */
export async function publishAssetStatus(tx: DbOrTx, asset: Asset): Promise<void> {
	if (asset.status !== 'ready' && asset.status !== 'failed') return;
	await publishEvent(tx, { ownerId: asset.ownerId, type: `asset.${asset.status}`, assetId: asset.id, data: assetEventData(asset) });
}
