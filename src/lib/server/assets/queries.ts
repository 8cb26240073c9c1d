/**
 * The gallery's list: keyset pagination on (created_at desc, id desc), the order of the
 * assets_owner_created_idx index, so page 1000 costs what page 1 does.
 */
import { and, eq, ilike, inArray, isNotNull, isNull, ne, sql, type SQL } from 'drizzle-orm';
import type { DbOrTx } from '../db/client';
import { assets, assetVariants, type Asset, type AssetMediaType, type AssetStatus } from '../db/schema';
import { ValidationError } from '../errors';
import type { VariantRef } from './json';

export interface AssetFilters {
	mediaType?: AssetMediaType;
	workspaceId?: string;
	status?: AssetStatus;
	providerId?: string;
	q?: string;
	/** The trash view: only trashed assets. Otherwise trashed assets are left out. */
	trash?: boolean;
	cursor?: string;
	limit: number;
}

interface Cursor {
	/** created_at with PostgreSQL's microseconds: a millisecond Date would skip rows within one ms. */
	at: string;
	id: string;
}

const CURSOR_AT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function encodeCursor(c: Cursor): string {
	return Buffer.from(`${c.at}|${c.id}`, 'utf8').toString('base64url');
}

export function decodeCursor(value: string): Cursor {
	const [at, id, ...rest] = Buffer.from(value, 'base64url').toString('utf8').split('|');
	if (rest.length || !CURSOR_AT.test(at ?? '') || !UUID.test(id ?? '')) {
		throw new ValidationError('Some fields are not valid.', { cursor: ['This cursor is not one we gave out.'] });
	}
	return { at, id };
}

export function escapeLike(text: string): string {
	return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

export async function selectAssetPage(
	db: DbOrTx,
	ownerId: string,
	filters: AssetFilters
): Promise<{ items: Asset[]; nextCursor: string | null }> {
	const rows = await assetPageQuery(db, ownerId, filters);
	const page = rows.slice(0, filters.limit);
	const last = page.at(-1);
	return {
		items: page.map((r) => r.asset),
		nextCursor: rows.length > filters.limit && last ? encodeCursor({ at: last.at, id: last.asset.id }) : null
	};
}

/** One page and one row more (to know whether another page follows). Exported for its plan test. */
export function assetPageQuery(db: DbOrTx, ownerId: string, filters: AssetFilters) {
	const where: (SQL | undefined)[] = [
		eq(assets.ownerId, ownerId),
		isNull(assets.purgedAt),
		filters.trash ? isNotNull(assets.deletedAt) : isNull(assets.deletedAt),
		filters.mediaType ? eq(assets.mediaType, filters.mediaType) : undefined,
		filters.workspaceId ? eq(assets.workspaceId, filters.workspaceId) : undefined,
		// Uploads still receiving bytes are partial: listed only when asked for by status.
		filters.status ? eq(assets.status, filters.status) : ne(assets.status, 'uploading'),
		filters.providerId ? eq(assets.providerId, filters.providerId) : undefined,
		filters.q ? ilike(assets.originalFilename, `%${escapeLike(filters.q)}%`) : undefined
	];
	if (filters.cursor) {
		const c = decodeCursor(filters.cursor);
		where.push(sql`(${assets.createdAt}, ${assets.id}) < (${c.at}::timestamptz, ${c.id}::uuid)`);
	}
	return db
		.select({
			asset: assets,
			at: sql<string>`to_char(${assets.createdAt} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`
		})
		.from(assets)
		.where(and(...where))
		// NULLS LAST as in the index (the columns are never null, but the planner matches the order
		// literally: plain DESC means NULLS FIRST and turns every page into a scan and a sort).
		.orderBy(sql`${assets.createdAt} desc nulls last`, sql`${assets.id} desc nulls last`)
		.limit(filters.limit + 1);
}

/** The variants (kind and size) of some assets, by asset id. */
export async function variantsOf(db: DbOrTx, assetIds: string[]): Promise<Map<string, VariantRef[]>> {
	const byAsset = new Map<string, VariantRef[]>();
	if (assetIds.length === 0) return byAsset;
	const rows = await db
		.select({ assetId: assetVariants.assetId, kind: assetVariants.kind, size: assetVariants.size })
		.from(assetVariants)
		.where(inArray(assetVariants.assetId, assetIds));
	for (const r of rows) {
		let list = byAsset.get(r.assetId);
		if (!list) byAsset.set(r.assetId, (list = []));
		list.push({ kind: r.kind, size: r.size });
	}
	return byAsset;
}
