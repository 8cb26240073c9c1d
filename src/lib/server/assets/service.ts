/**
 * Reading and managing a user's assets: the gallery list, one asset, trash, restore, purge, bulk
 * actions and stats. Every query is scoped to the owner, so another user's id is not found.
 */
import { and, eq, inArray, isNotNull, isNull, lt, sql } from 'drizzle-orm';
import type { Db, DbOrTx } from '../db/client';
import { assets, assetVariants, type Asset, type AssetVariant, type OperationType, type User } from '../db/schema';
import { NotFoundError } from '../errors';
import { logger } from '../logger';
import type { Storage } from '../storage/local';
import { releaseStorage } from '../users/quotas';
import { clearStaged } from '../uploads/staging';
import { assertOwnWorkspace } from '../workspaces/service';
import { selectAssetPage, variantsOf, type AssetFilters, type AssetListRow } from './queries';
import type { VariantRef } from './json';

export type { AssetFilters } from './queries';

export interface AssetWithVariants {
	asset: Asset;
	variants: VariantRef[];
}

export async function listAssets(
	db: DbOrTx,
	user: User,
	filters: AssetFilters
): Promise<{ items: AssetListRow[]; nextCursor: string | null }> {
	if (filters.workspaceId) await assertOwnWorkspace(db, user.id, filters.workspaceId);
	return selectAssetPage(db, user.id, filters);
}

/** One of the user's assets, trashed or not; purged assets are gone. */
export async function findOwnAsset(db: DbOrTx, user: User, id: string): Promise<Asset> {
	const [asset] = await db
		.select()
		.from(assets)
		.where(and(eq(assets.id, id), eq(assets.ownerId, user.id), isNull(assets.purgedAt)));
	if (!asset) throw new NotFoundError('Asset');
	return asset;
}

export async function getAsset(
	db: DbOrTx,
	user: User,
	id: string
): Promise<AssetWithVariants & { lineage: { parents: number; children: number }; operationType: OperationType | null }> {
	const asset = await findOwnAsset(db, user, id);
	const [variants, [counts]] = await Promise.all([
		variantsOf(db, [id]),
		db.execute<{ parents: number; children: number; operation_type: OperationType | null }>(sql`
			select
				(select count(*) from asset_lineage l join assets p on p.id = l.parent_asset_id
				  where l.child_asset_id = ${id}::uuid and p.purged_at is null)::int as parents,
				(select count(*) from asset_lineage l join assets c on c.id = l.child_asset_id
				  where l.parent_asset_id = ${id}::uuid and c.purged_at is null)::int as children,
				(select operation_type from jobs where id = ${asset.sourceJobId}::uuid) as operation_type`)
	]);
	return {
		asset,
		variants: variants.get(id) ?? [],
		lineage: { parents: counts.parents, children: counts.children },
		operationType: counts.operation_type
	};
}

/** Moves an asset to the trash (idempotent: trashing a trashed asset keeps its date). */
export async function trashAsset(db: DbOrTx, user: User, id: string): Promise<void> {
	const rows = await db
		.update(assets)
		.set({ deletedAt: sql`coalesce(${assets.deletedAt}, now())`, updatedAt: sql`now()` })
		.where(and(eq(assets.id, id), eq(assets.ownerId, user.id), isNull(assets.purgedAt)))
		.returning({ id: assets.id });
	if (rows.length === 0) throw new NotFoundError('Asset');
}

export async function restoreAsset(db: DbOrTx, user: User, id: string): Promise<AssetWithVariants> {
	const [asset] = await db
		.update(assets)
		.set({ deletedAt: null, updatedAt: sql`now()` })
		.where(and(eq(assets.id, id), eq(assets.ownerId, user.id), isNull(assets.purgedAt)))
		.returning();
	if (!asset) throw new NotFoundError('Asset');
	return { asset, variants: (await variantsOf(db, [id])).get(id) ?? [] };
}

/** Permanently deletes one of the user's assets: storage released, variants and files removed. */
export async function purgeAsset(db: Db, storage: Storage, user: User, id: string): Promise<void> {
	if (!(await purgeOne(db, storage, id, user.id))) throw new NotFoundError('Asset');
}

/**
 * Purges one asset. The row is marked purged and its charge released in one transaction; the
 * conditional UPDATE (purged_at is null, row locked) lets exactly one of concurrent purges through,
 * so the bytes are released once. Files go after the commit: a crash leaves an orphan file, never
 * a row pointing at nothing. Returns false when there was nothing (left) to purge.
 */
async function purgeOne(db: Db, storage: Storage, id: string, ownerId: string | null): Promise<boolean> {
	const removed = await db.transaction(async (tx) => {
		const [row] = await tx.execute<{ owner_id: string; released: string | number; storage_key: string | null; was_uploading: boolean }>(sql`
			with target as (
				select id, storage_bytes_charged, status from assets
				where id = ${id}::uuid and purged_at is null ${ownerId ? sql`and owner_id = ${ownerId}::uuid` : sql``}
				for update
			)
			update assets a
			set purged_at = now(), deleted_at = coalesce(a.deleted_at, now()), updated_at = now(),
			    storage_bytes_charged = 0, upload_token_hash = null,
			    -- An upload still in flight is cancelled: its completion only moves 'uploading' rows.
			    status = case when a.status = 'uploading' then 'failed'::asset_status else a.status end,
			    error_message = case when a.status = 'uploading' then 'Deleted before the upload finished.' else a.error_message end
			from target
			where a.id = target.id and a.purged_at is null
			returning a.owner_id, target.storage_bytes_charged as released, a.storage_key, target.status = 'uploading' as was_uploading`);
		if (!row) return null;
		const released = Number(row.released);
		if (released > 0) await releaseStorage(tx, row.owner_id, released);
		const variants = await tx
			.delete(assetVariants)
			.where(eq(assetVariants.assetId, id))
			.returning({ storageKey: assetVariants.storageKey });
		return { storageKey: row.storage_key, variantKeys: variants.map((v) => v.storageKey), wasUploading: row.was_uploading };
	});
	if (!removed) return false;
	// Bytes that arrived for an upload that will never complete (a PUT landing after this is
	// cleared by the upload path, which sees the row is no longer uploading).
	if (removed.wasUploading) await clearStaged(storage, id);
	for (const key of removed.variantKeys) await removeQuietly(storage, key);
	if (removed.storageKey) await removeOriginalIfUnused(db, storage, removed.storageKey);
	return true;
}

/**
 * Serialises everything that decides whether a content-addressed original stays: removing it
 * after a purge, and (for uploads) pointing a new asset at an existing file. Hold it inside a
 * transaction; it is released at commit.
 */
export async function lockStorageKey(tx: DbOrTx, key: string): Promise<void> {
	await tx.execute(sql`select pg_advisory_xact_lock(hashtextextended(${key}, 7))`);
}

/** lockStorageKey for several keys in one statement, taken in key order (two batches never wait on each other in a cycle). */
export async function lockStorageKeys(tx: DbOrTx, keys: string[]): Promise<void> {
	if (keys.length === 0) return;
	const sorted = [...keys].sort();
	await tx.execute(sql`
		select count(pg_advisory_xact_lock(hashtextextended(k, 7)))
		from (select k from jsonb_array_elements_text(${JSON.stringify(sorted)}::jsonb) with ordinality as u(k, n) order by n offset 0) keys`);
}

/** Identical bytes share one file, possibly across users: it goes only with its last asset. */
async function removeOriginalIfUnused(db: Db, storage: Storage, key: string): Promise<void> {
	await db.transaction(async (tx) => {
		await lockStorageKey(tx, key);
		const [user] = await tx
			.select({ id: assets.id })
			.from(assets)
			.where(and(eq(assets.storageKey, key), isNull(assets.purgedAt)))
			.limit(1);
		if (!user) await removeQuietly(storage, key);
	});
}

async function removeQuietly(storage: Storage, key: string): Promise<void> {
	try {
		await storage.remove(key);
	} catch (err) {
		// The row is already purged; an orphan file costs disk, not correctness.
		logger.warn({ err, storage_key: key }, 'assets:file-remove-failed');
	}
}

/** The scheduled clean-up: purges every asset trashed more than `trashDays` ago. */
export async function purgeExpiredTrash(
	db: Db,
	storage: Storage,
	trashDays: number,
	now: Date = new Date()
): Promise<{ purged: number }> {
	const cutoff = new Date(now.getTime() - trashDays * 24 * 60 * 60 * 1000);
	const BATCH = 200;
	let purged = 0;
	for (;;) {
		const batch = await db
			.select({ id: assets.id })
			.from(assets)
			.where(and(isNotNull(assets.deletedAt), isNull(assets.purgedAt), lt(assets.deletedAt, cutoff)))
			.orderBy(assets.deletedAt)
			.limit(BATCH);
		for (const { id } of batch) if (await purgeOne(db, storage, id, null)) purged++;
		if (batch.length < BATCH) return { purged };
	}
}

export type BulkAction = 'trash' | 'restore' | 'purge' | 'move';

/**
 * One action over many assets. Ids that are not the user's (or unknown, or already in that state)
 * are skipped rather than failing the batch: `updated` says how many changed, and nothing tells
 * another user's id apart from an unknown one.
 */
export async function bulkUpdateAssets(
	db: Db,
	storage: Storage,
	user: User,
	input: { ids: string[]; action: BulkAction; workspaceId?: string | null }
): Promise<{ updated: number }> {
	const ids = [...new Set(input.ids)];
	const own = and(inArray(assets.id, ids), eq(assets.ownerId, user.id), isNull(assets.purgedAt));
	const changed = async (q: Promise<{ id: string }[]>) => ({ updated: (await q).length });
	switch (input.action) {
		case 'trash':
			return changed(
				db.update(assets).set({ deletedAt: sql`now()`, updatedAt: sql`now()` }).where(and(own, isNull(assets.deletedAt))).returning({ id: assets.id })
			);
		case 'restore':
			return changed(
				db.update(assets).set({ deletedAt: null, updatedAt: sql`now()` }).where(and(own, isNotNull(assets.deletedAt))).returning({ id: assets.id })
			);
		case 'move': {
			const workspaceId = input.workspaceId ?? null;
			if (workspaceId) await assertOwnWorkspace(db, user.id, workspaceId);
			return changed(
				db
					.update(assets)
					.set({ workspaceId, updatedAt: sql`now()` })
					.where(and(own, workspaceId ? sql`${assets.workspaceId} is distinct from ${workspaceId}::uuid` : isNotNull(assets.workspaceId)))
					.returning({ id: assets.id })
			);
		}
		case 'purge': {
			const rows = await db.select({ id: assets.id }).from(assets).where(own);
			let updated = 0;
			for (const { id } of rows) if (await purgeOne(db, storage, id, user.id)) updated++;
			return { updated };
		}
	}
}

export interface MediaStats {
	count: number;
	bytes: number;
}

/** Count and bytes per media type of the user's live assets (ready or processing, not trashed). */
export async function assetStats(db: DbOrTx, user: User): Promise<{ image: MediaStats; video: MediaStats; total: MediaStats }> {
	const rows = await db
		.select({
			mediaType: assets.mediaType,
			count: sql<number>`count(*)::int`,
			bytes: sql<string>`coalesce(sum(${assets.fileSizeBytes}), 0)::bigint`
		})
		.from(assets)
		.where(
			and(
				eq(assets.ownerId, user.id),
				isNull(assets.deletedAt),
				isNull(assets.purgedAt),
				inArray(assets.status, ['ready', 'processing'])
			)
		)
		.groupBy(assets.mediaType);
	const stats = { image: { count: 0, bytes: 0 }, video: { count: 0, bytes: 0 }, total: { count: 0, bytes: 0 } };
	for (const r of rows) {
		stats[r.mediaType] = { count: r.count, bytes: Number(r.bytes) };
		stats.total.count += r.count;
		stats.total.bytes += Number(r.bytes);
	}
	return stats;
}

/** What the file route serves: the stored original of an asset whose bytes are complete. */
export async function getAssetFile(db: DbOrTx, user: User, id: string): Promise<Asset & { storageKey: string }> {
	const asset = await findOwnAsset(db, user, id);
	if (!asset.storageKey || (asset.status !== 'ready' && asset.status !== 'processing')) throw new NotFoundError('Asset file');
	return { ...asset, storageKey: asset.storageKey };
}

/** A thumbnail (kind thumb, by size) or the poster (size 0) of a ready asset. */
export async function getAssetVariant(
	db: DbOrTx,
	user: User,
	id: string,
	kind: 'thumb' | 'poster',
	size: number
): Promise<AssetVariant> {
	const [row] = await db
		.select({ variant: assetVariants })
		.from(assetVariants)
		.innerJoin(assets, eq(assets.id, assetVariants.assetId))
		.where(
			and(
				eq(assetVariants.assetId, id),
				eq(assetVariants.kind, kind),
				eq(assetVariants.size, size),
				eq(assets.ownerId, user.id),
				isNull(assets.purgedAt),
				eq(assets.status, 'ready')
			)
		);
	if (!row) throw new NotFoundError(kind === 'poster' ? 'Poster' : 'Thumbnail');
	return row.variant;
}

/** Notes that the asset was looked at; at most one write a minute per asset. */
export async function touchAsset(db: DbOrTx, id: string): Promise<void> {
	await db
		.update(assets)
		.set({ lastAccessedAt: sql`now()` })
		.where(and(eq(assets.id, id), sql`(${assets.lastAccessedAt} is null or ${assets.lastAccessedAt} < now() - interval '1 minute')`));
}
