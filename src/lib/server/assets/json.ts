/** Assets as the JSON API and the pages see them: snake_case, URLs instead of storage keys. */
import type { Asset, AssetVariant, OperationType } from '../db/schema';

export type VariantRef = Pick<AssetVariant, 'kind' | 'size'>;

export const assetFileUrl = (id: string) => `/api/v1/assets/${id}/file`;
export const assetThumbUrl = (id: string, size: number) => `/api/v1/assets/${id}/thumbs/${size}`;
export const assetPosterUrl = (id: string) => `/api/v1/assets/${id}/poster`;

/** Thumbnail and poster URLs, only once the asset is ready (the same rule the image routes apply). */
export function variantUrls(asset: Pick<Asset, 'id' | 'status'>, variants: VariantRef[]) {
	const thumbnails: Record<string, string> = {};
	let poster: string | null = null;
	if (asset.status === 'ready') {
		for (const v of [...variants].sort((a, b) => a.size - b.size)) {
			if (v.kind === 'thumb') thumbnails[String(v.size)] = assetThumbUrl(asset.id, v.size);
			else if (v.kind === 'poster') poster = assetPosterUrl(asset.id);
		}
	}
	return { thumbnails, poster };
}

/** `operationType` is that of the job that generated the asset (null for uploads). */
export function assetJson(asset: Asset, variants: VariantRef[], operationType: OperationType | null = null) {
	// Named rather than spread into the literal: the gallery maps 60 of these per page, and a spread
	// copies through a slow generic path (same keys, same order, same JSON).
	const { thumbnails, poster } = variantUrls(asset, variants);
	return {
		id: asset.id,
		workspace_id: asset.workspaceId,
		media_type: asset.mediaType,
		mime: asset.mime,
		status: asset.status,
		error_message: asset.errorMessage,
		sha256: asset.sha256,
		file_size_bytes: asset.fileSizeBytes,
		width: asset.width,
		height: asset.height,
		duration_sec: asset.durationSec,
		original_filename: asset.originalFilename,
		provider_id: asset.providerId,
		provider_asset_id: asset.providerAssetId,
		provider_account_id: asset.providerAccountId,
		remote_url: asset.remoteUrl,
		sync_status: asset.syncStatus,
		source_job_id: asset.sourceJobId,
		operation_type: operationType,
		placeholder_hash: asset.placeholderHash,
		created_at: asset.createdAt.toISOString(),
		updated_at: asset.updatedAt.toISOString(),
		downloaded_at: asset.downloadedAt?.toISOString() ?? null,
		last_accessed_at: asset.lastAccessedAt?.toISOString() ?? null,
		deleted_at: asset.deletedAt?.toISOString() ?? null,
		file_url: asset.storageKey ? assetFileUrl(asset.id) : null,
		thumbnails,
		poster
	};
}

export function assetDetailJson(
	asset: Asset,
	variants: VariantRef[],
	lineage: { parents: number; children: number },
	operationType: OperationType | null = null
) {
	return { ...assetJson(asset, variants, operationType), lineage };
}
