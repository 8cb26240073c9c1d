import { z } from 'zod';
import { isoDate, uuid } from './common';

export const AssetMediaType = z.enum(['image', 'video']);
export const AssetStatus = z.enum(['uploading', 'processing', 'ready', 'failed']);
export const AssetSyncStatus = z.enum(['remote', 'downloading', 'downloaded', 'error']);

export const AssetJson = z
	.object({
		id: uuid,
		workspace_id: uuid.nullable(),
		media_type: AssetMediaType,
		mime: z.string(),
		status: AssetStatus,
		error_message: z.string().nullable(),
		sha256: z.string().nullable(),
		file_size_bytes: z.number().int().nullable(),
		width: z.number().int().nullable(),
		height: z.number().int().nullable(),
		duration_sec: z.number().nullable(),
		original_filename: z.string().nullable(),
		provider_id: z.string().nullable(),
		provider_asset_id: z.string().nullable(),
		provider_account_id: uuid.nullable(),
		remote_url: z.string().nullable(),
		sync_status: AssetSyncStatus.nullable(),
		source_job_id: uuid.nullable().describe('The generation job that made this asset; null for uploads'),
		operation_type: z.string().nullable().describe("That job's operation (e.g. text_to_video); null for uploads"),
		placeholder_hash: z.string().nullable().describe('Thumbhash (base64) for an instant placeholder'),
		created_at: isoDate,
		updated_at: isoDate,
		downloaded_at: isoDate.nullable(),
		last_accessed_at: isoDate.nullable(),
		deleted_at: isoDate.nullable().describe('Set while the asset is in the trash'),
		file_url: z.string().nullable().describe('The original bytes (Range requests supported); null before they are stored'),
		thumbnails: z.record(z.string(), z.string()).describe('Thumbnail URL by size (longest edge in pixels), e.g. {"256": "/api/v1/assets/…/thumbs/256"}'),
		poster: z.string().nullable().describe('Poster frame URL for videos')
	})
	.meta({ id: 'Asset' });

export const AssetDetailJson = AssetJson.extend({
	lineage: z.object({ parents: z.number().int(), children: z.number().int() })
}).meta({ id: 'AssetDetail' });

export const FrameRequest = z
	.object({
		at_sec: z
			.number({ error: 'at_sec is a number of seconds.' })
			.min(0, 'at_sec cannot be negative.')
			.optional()
			.describe("The moment to take, in seconds from the start, less than the video's duration. Default: the poster's moment (1 s in, or the first frame of a clip shorter than 2 s)")
	})
	.meta({ id: 'FrameRequest' });

export const FrameAssetJson = AssetJson.extend({
	duplicate: z.boolean().describe('true: these bytes were already one of your assets, answered instead of a new one (restored if it was in the trash)'),
	at_sec: z.number().describe('The moment the frame was taken at')
}).meta({ id: 'FrameAsset' });

const queryBool = z
	.enum(['true', 'false'])
	.optional()
	.transform((v) => v === 'true');

export const ListAssetsQuery = z.object({
	media_type: AssetMediaType.optional(),
	workspace_id: uuid.optional(),
	status: AssetStatus.optional().describe('Without it, uploads still in progress are left out'),
	provider_id: z.string().trim().min(1).max(100).optional(),
	q: z.string().trim().max(200).optional().describe('Searches original filenames and the prompts of the jobs that generated assets (case-insensitive substring)'),
	trash: queryBool.describe('true: the trash view (only trashed assets)'),
	cursor: z.string().max(200).optional().describe('next_cursor from the previous page'),
	limit: z.coerce.number().int().min(1).max(200).default(60)
});

export const AssetPage = z
	.object({ items: z.array(AssetJson), next_cursor: z.string().nullable() })
	.meta({ id: 'AssetPage' });

export const DeleteAssetQuery = z.object({
	permanent: queryBool.describe('true: purge now (files removed, storage released) instead of moving to the trash')
});

export const BulkAssetRequest = z
	.object({
		ids: z.array(uuid).min(1, 'Choose at least one asset.').max(500, 'At most 500 assets at once.'),
		action: z.enum(['trash', 'restore', 'purge', 'move']),
		workspace_id: uuid.nullable().optional().describe('For move: the target workspace, or null for none')
	})
	.refine((v) => v.action !== 'move' || v.workspace_id !== undefined, {
		path: ['workspace_id'],
		message: 'Moving needs a workspace_id (null for no workspace).'
	})
	.meta({ id: 'BulkAssetRequest' });

export const BulkAssetResult = z
	.object({ updated: z.number().int().describe('Assets changed; ids that are not yours, unknown or already in that state are skipped') })
	.meta({ id: 'BulkAssetResult' });

const MediaStats = z.object({ count: z.number().int(), bytes: z.number().int() });

export const AssetStats = z
	.object({ image: MediaStats, video: MediaStats, total: MediaStats })
	.meta({ id: 'AssetStats' });

export const LineageQuery = z.object({
	depth: z.coerce.number().int().min(1).max(5).default(2).describe('Generations each way (at most 5)')
});

export const LineageNodeJson = z
	.object({
		id: uuid,
		depth: z.number().int().describe('0 for the asset asked about, negative for ancestors, positive for descendants'),
		media_type: AssetMediaType,
		status: AssetStatus,
		original_filename: z.string().nullable(),
		created_at: isoDate,
		in_trash: z.boolean(),
		thumbnail: z.string().nullable().describe('The smallest thumbnail URL')
	})
	.meta({ id: 'LineageNode' });

export const LineageEdgeJson = z
	.object({
		parent_id: uuid,
		child_id: uuid,
		relation: z.string(),
		operation_type: z.string().nullable(),
		job_id: uuid.nullable()
	})
	.meta({ id: 'LineageEdge' });

export const LineageGraphJson = z
	.object({ nodes: z.array(LineageNodeJson), edges: z.array(LineageEdgeJson) })
	.meta({ id: 'LineageGraph' });
