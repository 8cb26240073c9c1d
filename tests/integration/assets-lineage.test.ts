/** Lineage: who may be linked, and the bounded neighbourhood the gallery reads. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Asset } from '../../src/lib/server/db/schema';
import { ConflictError, NotFoundError, ValidationError } from '../../src/lib/server/errors';
import { addLineage, lineageGraph } from '../../src/lib/server/lineage/service';
import { makeAsset } from '../support/asset-rows';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { makeUser } from '../support/factories';
import { assets } from '../../src/lib/server/db/schema';
import { eq } from 'drizzle-orm';

let t: TestDatabase;
beforeAll(async () => {
	t = await createTestDatabase();
});
afterAll(async () => {
	await t.destroy();
});

/** a[0] → a[1] → … → a[n-1], each made from the one before. */
async function chain(ownerId: string, n: number): Promise<Asset[]> {
	const made: Asset[] = [];
	for (let i = 0; i < n; i++) {
		const a = await makeAsset(t.db, ownerId);
		if (i > 0) await addLineage(t.db, { childAssetId: a.id, parents: [{ assetId: made[i - 1].id, relation: 'source_image' }], operationType: 'extend' });
		made.push(a);
	}
	return made;
}

describe('addLineage', () => {
	it('refuses an asset as its own parent, another owner’s parent, unknown ids and cycles', async () => {
		const { user } = await makeUser(t.db);
		const { user: other } = await makeUser(t.db);
		const [a, b, c] = await chain(user.id, 3);
		const foreign = await makeAsset(t.db, other.id);
		await expect(addLineage(t.db, { childAssetId: a.id, parents: [{ assetId: a.id, relation: 'reference' }] })).rejects.toBeInstanceOf(ValidationError);
		await expect(addLineage(t.db, { childAssetId: a.id, parents: [{ assetId: foreign.id, relation: 'reference' }] })).rejects.toBeInstanceOf(ValidationError);
		await expect(addLineage(t.db, { childAssetId: a.id, parents: [{ assetId: '7d0f1e52-5a3b-4c1e-9a51-2b2f7a0c9d11', relation: 'reference' }] })).rejects.toBeInstanceOf(NotFoundError);
		await expect(addLineage(t.db, { childAssetId: a.id, parents: [{ assetId: c.id, relation: 'reference' }] })).rejects.toBeInstanceOf(ConflictError);
		// Adding the same edge twice is harmless; a second relation to the same parent is another edge.
		await addLineage(t.db, { childAssetId: b.id, parents: [{ assetId: a.id, relation: 'source_image' }] });
		await addLineage(t.db, { childAssetId: c.id, parents: [{ assetId: a.id, relation: 'first_frame' }] });
		const graph = await lineageGraph(t.db, user, c.id, 2);
		expect(graph.edges.map((e) => `${e.parentId}>${e.childId}:${e.relation}`).sort()).toEqual(
			[`${a.id}>${b.id}:source_image`, `${b.id}>${c.id}:source_image`, `${a.id}>${c.id}:first_frame`].sort()
		);
	});
});

describe('lineageGraph', () => {
	it('returns ancestors and descendants up to the depth, with signed depths', async () => {
		const { user } = await makeUser(t.db);
		const a = await chain(user.id, 9);
		const graph = await lineageGraph(t.db, user, a[4].id, 2);
		expect(graph.nodes.map((n) => [n.id, n.depth])).toEqual([
			[a[2].id, -2],
			[a[3].id, -1],
			[a[4].id, 0],
			[a[5].id, 1],
			[a[6].id, 2]
		]);
		expect(graph.edges).toHaveLength(4);
		expect(graph.edges.every((e) => e.operationType === 'extend')).toBe(true);
	});

	it('bounds the depth at 5 however deep the chain is', async () => {
		const { user } = await makeUser(t.db);
		const a = await chain(user.id, 14);
		const graph = await lineageGraph(t.db, user, a[7].id, 50);
		expect(graph.nodes.map((n) => n.depth)).toEqual([-5, -4, -3, -2, -1, 0, 1, 2, 3, 4, 5]);
		expect((await lineageGraph(t.db, user, a[0].id, 1)).nodes.map((n) => n.id)).toEqual([a[0].id, a[1].id]);
	});

	it('reaches a node by its shortest path once, leaves purged assets out and hides other users’ assets', async () => {
		const { user } = await makeUser(t.db);
		const { user: mallory } = await makeUser(t.db);
		const [a, b, c] = await chain(user.id, 3);
		await addLineage(t.db, { childAssetId: c.id, parents: [{ assetId: a.id, relation: 'reference' }] });
		const fromA = await lineageGraph(t.db, user, a.id, 2);
		expect(fromA.nodes.map((n) => [n.id, n.depth])).toEqual([
			[a.id, 0],
			[b.id, 1],
			[c.id, 1]
		]);
		await t.db.update(assets).set({ purgedAt: new Date(), deletedAt: new Date() }).where(eq(assets.id, b.id));
		const afterPurge = await lineageGraph(t.db, user, a.id, 2);
		expect(afterPurge.nodes.map((n) => n.id)).toEqual([a.id, c.id]);
		expect(afterPurge.edges.map((e) => e.relation)).toEqual(['reference']);
		await expect(lineageGraph(t.db, mallory, a.id, 2)).rejects.toBeInstanceOf(NotFoundError);
	});
});

describe('addLineage inside the transaction that makes the child', () => {
	it('commits with it, and leaves nothing when it rolls back', async () => {
		const { user } = await makeUser(t.db);
		const parent = await makeAsset(t.db, user.id);
		const childId = await t.db.transaction(async (tx) => {
			const [child] = await tx.insert(assets).values({ ownerId: user.id, mediaType: 'video', mime: 'video/mp4', status: 'processing' }).returning();
			await addLineage(tx, { childAssetId: child.id, parents: [{ assetId: parent.id, relation: 'source_image' }], operationType: 'image_to_video' });
			return child.id;
		});
		expect((await lineageGraph(t.db, user, childId, 1)).edges).toHaveLength(1);

		const rolledBack = await t.db
			.transaction(async (tx) => {
				const [child] = await tx.insert(assets).values({ ownerId: user.id, mediaType: 'video', mime: 'video/mp4', status: 'processing' }).returning();
				await addLineage(tx, { childAssetId: child.id, parents: [{ assetId: parent.id, relation: 'source_image' }] });
				throw new Error('provider refused');
			})
			.catch((e: Error) => e.message);
		expect(rolledBack).toBe('provider refused');
		expect((await lineageGraph(t.db, user, parent.id, 1)).nodes.map((n) => n.id).sort()).toEqual([parent.id, childId].sort());
	});
});
