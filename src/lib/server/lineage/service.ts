/**
 * Which assets an asset was made from. Generation records the edges; the gallery reads a bounded
 * neighbourhood. An edge is refused when the child already is an ancestor of a parent, so the graph
 * stays acyclic and every walk ends.
 */
import { and, eq, inArray, isNull, sql } from 'drizzle-orm';
import type { DbOrTx } from '../db/client';
import { assetLineage, assets, type AssetMediaType, type AssetStatus, type User } from '../db/schema';
import { ConflictError, NotFoundError, ValidationError } from '../errors';
import { findOwnAsset } from '../assets/service';
import { variantsOf } from '../assets/queries';
import { assetThumbUrl } from '../assets/json';

export interface LineageInput {
	childAssetId: string;
	parents: { assetId: string; relation: string }[];
	operationType?: string | null;
	jobId?: string | null;
}

export const MAX_LINEAGE_DEPTH = 5;

/**
 * Records that the child was made from the parents. All must be one owner's live assets. Pass the
 * transaction that creates the child to record both together (this runs in a savepoint there).
 */
export async function addLineage(db: DbOrTx, input: LineageInput): Promise<void> {
	if (input.parents.length === 0) return;
	if (input.parents.some((p) => p.assetId === input.childAssetId)) {
		throw new ValidationError('An asset cannot be its own parent.', { parents: ['An asset cannot be its own parent.'] });
	}
	const ids = [...new Set([input.childAssetId, ...input.parents.map((p) => p.assetId)])];
	await db.transaction(async (tx) => {
		const rows = await tx
			.select({ id: assets.id, ownerId: assets.ownerId })
			.from(assets)
			.where(and(inArray(assets.id, ids), isNull(assets.purgedAt)));
		const child = rows.find((r) => r.id === input.childAssetId);
		if (!child || rows.length !== ids.length) throw new NotFoundError('Asset');
		if (rows.some((r) => r.ownerId !== child.ownerId)) {
			throw new ValidationError('Lineage links assets of one owner only.', { parents: ['Every parent must belong to the child’s owner.'] });
		}
		// Serialise edge additions per owner, so two concurrent additions cannot close a cycle.
		await tx.execute(sql`select pg_advisory_xact_lock(hashtextextended(${child.ownerId}, 11))`);
		const parentIds = ids.filter((id) => id !== input.childAssetId);
		const [cycle] = await tx.execute<{ id: string }>(sql`
			with recursive up(id) as (
				select unnest(array[${sql.join(
					parentIds.map((id) => sql`${id}::uuid`),
					sql`, `
				)}])
				union
				select l.parent_asset_id from asset_lineage l join up on l.child_asset_id = up.id
			)
			select id from up where id = ${input.childAssetId}::uuid limit 1`);
		if (cycle) throw new ConflictError('That would make an asset its own ancestor.');
		await tx
			.insert(assetLineage)
			.values(
				input.parents.map((p) => ({
					childAssetId: input.childAssetId,
					parentAssetId: p.assetId,
					relation: p.relation,
					operationType: input.operationType ?? null,
					jobId: input.jobId ?? null
				}))
			)
			.onConflictDoNothing();
	});
}

export interface LineageNode {
	id: string;
	depth: number;
	mediaType: AssetMediaType;
	status: AssetStatus;
	originalFilename: string | null;
	createdAt: Date;
	inTrash: boolean;
	thumbnail: string | null;
}

export interface LineageEdge {
	parentId: string;
	childId: string;
	relation: string;
	operationType: string | null;
	jobId: string | null;
}

/**
 * Ancestors and descendants of one of the user's assets, up to `depth` generations each way.
 * Purged assets are left out, and so are their edges.
 */
export async function lineageGraph(
	db: DbOrTx,
	user: User,
	assetId: string,
	depth = 2
): Promise<{ nodes: LineageNode[]; edges: LineageEdge[] }> {
	const bound = Math.max(1, Math.min(MAX_LINEAGE_DEPTH, Math.trunc(depth)));
	await findOwnAsset(db, user, assetId);
	const nodeRows = await db.execute<{
		id: string;
		depth: number;
		media_type: AssetMediaType;
		status: AssetStatus;
		original_filename: string | null;
		created_at: string;
		deleted_at: string | null;
	}>(sql`
		with recursive
		up(id, depth) as (
			select ${assetId}::uuid, 0
			union
			select l.parent_asset_id, up.depth + 1 from asset_lineage l join up on l.child_asset_id = up.id
			where up.depth < ${bound}
		),
		down(id, depth) as (
			select ${assetId}::uuid, 0
			union
			select l.child_asset_id, down.depth + 1 from asset_lineage l join down on l.parent_asset_id = down.id
			where down.depth < ${bound}
		),
		reached(id, depth) as (
			select id, -min(depth) from up group by id
			union all
			select id, min(depth) from down where id not in (select id from up) group by id
		)
		select a.id, r.depth, a.media_type, a.status, a.original_filename, a.created_at, a.deleted_at
		from reached r join assets a on a.id = r.id
		where a.owner_id = ${user.id}::uuid and a.purged_at is null
		order by r.depth, a.created_at, a.id`);
	const ids = nodeRows.map((n) => n.id);
	const [edges, variants] = await Promise.all([
		db
			.select()
			.from(assetLineage)
			.where(and(inArray(assetLineage.childAssetId, ids), inArray(assetLineage.parentAssetId, ids))),
		variantsOf(db, ids)
	]);
	return {
		nodes: nodeRows.map((n) => {
			const thumbs = (variants.get(n.id) ?? []).filter((v) => v.kind === 'thumb').map((v) => v.size);
			return {
				id: n.id,
				depth: Number(n.depth),
				mediaType: n.media_type,
				status: n.status,
				originalFilename: n.original_filename,
				createdAt: new Date(n.created_at),
				inTrash: n.deleted_at !== null,
				thumbnail: n.status === 'ready' && thumbs.length ? assetThumbUrl(n.id, Math.min(...thumbs)) : null
			};
		}),
		edges: edges.map((e) => ({
			parentId: e.parentAssetId,
			childId: e.childAssetId,
			relation: e.relation,
			operationType: e.operationType,
			jobId: e.jobId
		}))
	};
}

export function lineageGraphJson(graph: { nodes: LineageNode[]; edges: LineageEdge[] }) {
	return {
		nodes: graph.nodes.map((n) => ({
			id: n.id,
			depth: n.depth,
			media_type: n.mediaType,
			status: n.status,
			original_filename: n.originalFilename,
			created_at: n.createdAt.toISOString(),
			in_trash: n.inTrash,
			thumbnail: n.thumbnail
		})),
		edges: graph.edges.map((e) => ({
			parent_id: e.parentId,
			child_id: e.childId,
			relation: e.relation,
			operation_type: e.operationType,
			job_id: e.jobId
		}))
	};
}
