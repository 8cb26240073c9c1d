import { sql } from 'drizzle-orm';
import {
	bigint,
	check,
	doublePrecision,
	index,
	integer,
	pgEnum,
	pgTable,
	text,
	uniqueIndex,
	uuid
} from 'drizzle-orm/pg-core';
import { createdAt, id, timestamptz } from './columns';
import { users } from './users';
import { workspaces } from './workspaces';

export const assetMediaType = pgEnum('asset_media_type', ['image', 'video']);
export const assetStatus = pgEnum('asset_status', ['uploading', 'processing', 'ready', 'failed']);
export const assetSyncStatus = pgEnum('asset_sync_status', ['remote', 'downloading', 'downloaded', 'error']);
export const assetVariantKind = pgEnum('asset_variant_kind', ['thumb', 'poster']);

/** Every piece of media: uploads and generated results alike. */
export const assets = pgTable(
	'assets',
	{
		id: id(),
		ownerId: uuid('owner_id')
			.notNull()
			.references(() => users.id, { onDelete: 'cascade' }),
		workspaceId: uuid('workspace_id').references(() => workspaces.id, { onDelete: 'set null' }),
		mediaType: assetMediaType('media_type').notNull(),
		mime: text('mime').notNull(),
		status: assetStatus('status').notNull().default('uploading'),
		errorMessage: text('error_message'),
		sha256: text('sha256'),
		fileSizeBytes: bigint('file_size_bytes', { mode: 'number' }),
		width: integer('width'),
		height: integer('height'),
		durationSec: doublePrecision('duration_sec'),
		originalFilename: text('original_filename'),
		// Content-addressed: identical bytes share one stored file.
		storageKey: text('storage_key'),
		// Bytes counted against the owner's storage quota for this asset (0 until stored).
		storageBytesCharged: bigint('storage_bytes_charged', { mode: 'number' }).notNull().default(0),
		// Generated media: where it came from. Null for uploads.
		providerId: text('provider_id'),
		providerAssetId: text('provider_asset_id'),
		providerAccountId: uuid('provider_account_id'),
		remoteUrl: text('remote_url'),
		syncStatus: assetSyncStatus('sync_status'),
		sourceJobId: uuid('source_job_id'),
		// Thumbhash (base64) for an instant placeholder in the grid.
		placeholderHash: text('placeholder_hash'),
		// Uploads in progress: the hash of the token that authorises PUTting the bytes.
		uploadTokenHash: text('upload_token_hash'),
		createdAt: createdAt(),
		updatedAt: timestamptz('updated_at').notNull().defaultNow(),
		downloadedAt: timestamptz('downloaded_at'),
		lastAccessedAt: timestamptz('last_accessed_at'),
		deletedAt: timestamptz('deleted_at'),
		purgedAt: timestamptz('purged_at')
	},
	(t) => [
		uniqueIndex('assets_owner_sha256_key')
			.on(t.ownerId, t.sha256)
			.where(sql`${t.sha256} is not null and ${t.purgedAt} is null and ${t.status} <> 'failed'`),
		uniqueIndex('assets_provider_asset_key')
			.on(t.providerId, t.providerAssetId)
			.where(sql`${t.providerAssetId} is not null`),
		// The gallery's keyset: newest first within an owner.
		index('assets_owner_created_idx').on(t.ownerId, t.createdAt.desc(), t.id.desc()),
		index('assets_workspace_created_idx').on(t.workspaceId, t.createdAt.desc(), t.id.desc()),
		index('assets_storage_key_idx').on(t.storageKey),
		index('assets_trash_idx').on(t.deletedAt).where(sql`${t.deletedAt} is not null and ${t.purgedAt} is null`),
		check('assets_storage_bytes_charged_nonnegative', sql`${t.storageBytesCharged} >= 0`)
	]
);

export type Asset = typeof assets.$inferSelect;
export type NewAsset = typeof assets.$inferInsert;
export type AssetMediaType = (typeof assetMediaType.enumValues)[number];
export type AssetStatus = (typeof assetStatus.enumValues)[number];

/** Derived images: thumbnails at each configured size, and a poster frame for videos. */
export const assetVariants = pgTable(
	'asset_variants',
	{
		id: id(),
		assetId: uuid('asset_id')
			.notNull()
			.references(() => assets.id, { onDelete: 'cascade' }),
		kind: assetVariantKind('kind').notNull(),
		// The configured size for thumbnails (longest edge); 0 for the poster.
		size: integer('size').notNull(),
		format: text('format').notNull(),
		width: integer('width').notNull(),
		height: integer('height').notNull(),
		byteSize: bigint('byte_size', { mode: 'number' }).notNull(),
		storageKey: text('storage_key').notNull(),
		createdAt: createdAt()
	},
	// One row per kind and size: ingest upserts, so running it twice makes no second set.
	(t) => [uniqueIndex('asset_variants_asset_kind_size_key').on(t.assetId, t.kind, t.size)]
);

export type AssetVariant = typeof assetVariants.$inferSelect;

/** Which assets an asset was made from (filled by generation). */
export const assetLineage = pgTable(
	'asset_lineage',
	{
		id: id(),
		childAssetId: uuid('child_asset_id')
			.notNull()
			.references(() => assets.id, { onDelete: 'cascade' }),
		parentAssetId: uuid('parent_asset_id')
			.notNull()
			.references(() => assets.id, { onDelete: 'cascade' }),
		relation: text('relation').notNull(),
		operationType: text('operation_type'),
		jobId: uuid('job_id'),
		createdAt: createdAt()
	},
	(t) => [
		uniqueIndex('asset_lineage_edge_key').on(t.childAssetId, t.parentAssetId, t.relation),
		index('asset_lineage_parent_idx').on(t.parentAssetId),
		check('asset_lineage_not_self', sql`${t.childAssetId} <> ${t.parentAssetId}`)
	]
);

export type AssetLineage = typeof assetLineage.$inferSelect;

/** The cross-provider upload cache: an asset's id at a provider, per provider account. */
export const assetProviderUploads = pgTable(
	'asset_provider_uploads',
	{
		id: id(),
		assetId: uuid('asset_id')
			.notNull()
			.references(() => assets.id, { onDelete: 'cascade' }),
		providerId: text('provider_id').notNull(),
		providerAccountId: uuid('provider_account_id').notNull(),
		providerUploadId: text('provider_upload_id').notNull(),
		uploadedAt: timestamptz('uploaded_at').notNull().defaultNow(),
		expiresAt: timestamptz('expires_at')
	},
	(t) => [uniqueIndex('asset_provider_uploads_key').on(t.assetId, t.providerId, t.providerAccountId)]
);

export type AssetProviderUpload = typeof assetProviderUploads.$inferSelect;
