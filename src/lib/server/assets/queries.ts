/**
 * The gallery's list: keyset pagination on (created_at desc, id desc), the order of the
 * assets_owner_created_idx index, so page 1000 costs what page 1 does. One prepared statement
 * per combination of filters, returning each asset with its variants: one round trip a page.
 */
import { and, eq, ilike, inArray, isNotNull, isNull, ne, or, sql, type SQL } from 'drizzle-orm';
import type { DbOrTx } from '../db/client';
import { columnReader, preparedArrays } from '../db/prepared';
import { assets, assetVariants, type Asset, type AssetMediaType, type AssetStatus, type OperationType } from '../db/schema';
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

/** One row of the gallery list: the asset, its variants and the operation of the job that made it. */
export interface AssetListRow {
	asset: Asset;
	variants: VariantRef[];
	operationType: OperationType | null;
}

export async function selectAssetPage(
	db: DbOrTx,
	ownerId: string,
	filters: AssetFilters
): Promise<{ items: AssetListRow[]; nextCursor: string | null }> {
	const cursor = filters.cursor ? decodeCursor(filters.cursor) : null;
	const shape = shapeOf(filters);
	const statement = preparedArrays(db, `asset_page:${shapeKey(shape)}`, () => pageQuery(db, shape).toSQL(), pageRow);
	const rows = await statement.execute({
		ownerId,
		mediaType: filters.mediaType,
		workspaceId: filters.workspaceId,
		status: filters.status,
		providerId: filters.providerId,
		q: filters.q ? `%${escapeLike(filters.q)}%` : undefined,
		cursorAt: cursor?.at,
		cursorId: cursor?.id,
		limit: filters.limit + 1
	});
	const page = rows.slice(0, filters.limit);
	const last = page.at(-1);
	return {
		items: page.map(({ asset, variants, operationType }) => ({ asset, variants, operationType })),
		nextCursor: rows.length > filters.limit && last ? encodeCursor({ at: last.at, id: last.asset.id }) : null
	};
}

const assetColumns = columnReader(assets);

/** A row of pageQuery's select list (the asset's columns, then at, variants, operationType), in array mode. */
function pageRow(row: unknown[]): AssetListRow & { at: string } {
	const n = assetColumns.width;
	return {
		asset: assetColumns.read(row, 0),
		at: row[n] as string,
		variants: row[n + 1] as VariantRef[],
		operationType: row[n + 2] as OperationType | null
	};
}

/** Which filters a request uses: each combination is its own exact (and prepared) statement. */
type QueryShape = Record<'mediaType' | 'workspaceId' | 'status' | 'providerId' | 'q' | 'cursor' | 'trash', boolean>;

function shapeOf(filters: AssetFilters): QueryShape {
	return {
		mediaType: !!filters.mediaType,
		workspaceId: !!filters.workspaceId,
		status: !!filters.status,
		providerId: !!filters.providerId,
		q: !!filters.q,
		cursor: !!filters.cursor,
		trash: !!filters.trash
	};
}

const shapeKey = (shape: QueryShape) =>
	Object.entries(shape)
		.filter(([, used]) => used)
		.map(([name]) => name)
		.join(',');

const param = (name: string) => sql.placeholder(name);

/**
 * One page and one row more (to know whether another page follows), in one round trip: the
 * variants and the job's operation come as per-row subqueries, which leave the plan an ordered
 * walk of the owner's keyset index.
 */
function pageQuery(db: DbOrTx, shape: QueryShape) {
	const where: (SQL | undefined)[] = [
		eq(assets.ownerId, param('ownerId')),
		isNull(assets.purgedAt),
		shape.trash ? isNotNull(assets.deletedAt) : isNull(assets.deletedAt),
		shape.mediaType ? eq(assets.mediaType, param('mediaType')) : undefined,
		shape.workspaceId ? eq(assets.workspaceId, param('workspaceId')) : undefined,
		// Uploads still receiving bytes are partial: listed only when asked for by status.
		shape.status ? eq(assets.status, param('status')) : ne(assets.status, 'uploading'),
		shape.providerId ? eq(assets.providerId, param('providerId')) : undefined,
		// The filename, or the prompt of the job that generated the asset.
		shape.q
			? or(
					ilike(assets.originalFilename, param('q')),
					sql`exists (select 1 from jobs j where j.id = assets.source_job_id and j.prompt ilike ${param('q')})`
				)
			: undefined,
		shape.cursor
			? sql`(${assets.createdAt}, ${assets.id}) < (${param('cursorAt')}::timestamptz, ${param('cursorId')}::uuid)`
			: undefined
	];
	return db
		.select({
			asset: assets,
			at: sql<string>`to_char(${assets.createdAt} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`,
			// Only a ready asset shows its variants (the image routes answer 404 before).
			// Written out qualified: drizzle leaves columns bare in a one-table select list, where
			// inside a subquery they would name the subquery's own table.
			variants: sql<VariantRef[]>`case when assets.status = 'ready' then coalesce(
				(select json_agg(json_build_object('kind', v.kind, 'size', v.size)) from asset_variants v where v.asset_id = assets.id),
				'[]'::json) else '[]'::json end`,
			operationType: sql<OperationType | null>`(select j.operation_type from jobs j where j.id = assets.source_job_id)`
		})
		.from(assets)
		.where(and(...where))
		// NULLS LAST as in the index (the columns are never null, but the planner matches the order
		// literally: plain DESC means NULLS FIRST and turns every page into a scan and a sort).
		.orderBy(sql`${assets.createdAt} desc nulls last`, sql`${assets.id} desc nulls last`)
		.limit(param('limit'));
}

/** The statement a request with these filters runs, as SQL with $n parameters (for its plan test). */
export function assetPageSql(db: DbOrTx, filters: AssetFilters): string {
	return pageQuery(db, shapeOf(filters)).toSQL().sql;
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
