/** The gallery list: keyset pages that stay exact while assets arrive, and its filters. */
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAssets, type AssetFilters } from '../../src/lib/server/assets/service';
import { assetPageSql, encodeCursor } from '../../src/lib/server/assets/queries';
import { assets, assetVariants, jobs, type User } from '../../src/lib/server/db/schema';
import { NotFoundError, ValidationError } from '../../src/lib/server/errors';
import { createWorkspace } from '../../src/lib/server/workspaces/service';
import { makeAsset } from '../support/asset-rows';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { makeUser } from '../support/factories';

let t: TestDatabase;
beforeAll(async () => {
	t = await createTestDatabase();
});
afterAll(async () => {
	await t.destroy();
});

async function allPages(user: User, filters: Omit<AssetFilters, 'cursor'>, between?: (page: number) => Promise<void>) {
	const ids: string[] = [];
	let cursor: string | undefined;
	for (let page = 0; ; page++) {
		const res = await listAssets(t.db, user, { ...filters, cursor });
		ids.push(...res.items.map((i) => i.asset.id));
		if (!res.nextCursor) return ids;
		expect(res.items).toHaveLength(filters.limit);
		cursor = res.nextCursor;
		await between?.(page);
	}
}

describe('keyset pagination', () => {
	it('walks every asset once, newest first, while newer assets arrive between pages', async () => {
		const { user } = await makeUser(t.db);
		const base = Date.parse('2026-01-01T00:00:00Z');
		const older: string[] = [];
		for (let i = 0; i < 23; i++) {
			// Three share each timestamp, so the id breaks ties.
			older.push((await makeAsset(t.db, user.id, { createdAt: new Date(base + Math.floor(i / 3) * 1000) })).id);
		}
		const expected = (
			await t.db.select({ id: assets.id }).from(assets).where(eq(assets.ownerId, user.id)).orderBy(sql`created_at desc, id desc`)
		).map((r) => r.id);
		expect(expected.sort()).toEqual([...older].sort());

		const inserted: string[] = [];
		const seen = await allPages(user, { limit: 5 }, async () => {
			// Newer assets arrive between pages: they belong before page 1, so they must not shift the rest.
			inserted.push((await makeAsset(t.db, user.id)).id);
		});
		const orderNow = (
			await t.db.select({ id: assets.id }).from(assets).where(eq(assets.ownerId, user.id)).orderBy(sql`created_at desc, id desc`)
		).map((r) => r.id);
		expect(new Set(seen).size).toBe(seen.length);
		expect(seen.filter((id) => older.includes(id))).toEqual(orderNow.filter((id) => older.includes(id)));
		expect(seen.filter((id) => inserted.includes(id))).toEqual([]);
	});

	it('keeps rows apart that differ by microseconds within one millisecond', async () => {
		const { user } = await makeUser(t.db);
		const made = [];
		for (let i = 0; i < 9; i++) made.push(await makeAsset(t.db, user.id));
		await t.db.execute(sql`
			update assets set created_at = '2026-02-01T00:00:00.000100Z'::timestamptz + (n.k * interval '7 microseconds')
			from (select id, row_number() over (order by id) as k from assets where owner_id = ${user.id}::uuid) n
			where assets.id = n.id`);
		const seen = await allPages(user, { limit: 2 });
		expect([...seen].sort()).toEqual(made.map((a) => a.id).sort());
		expect(new Set(seen).size).toBe(9);
	});

	it('refuses a cursor it did not give out', async () => {
		const { user } = await makeUser(t.db);
		for (const cursor of ['nonsense', Buffer.from('2026-01-01|x').toString('base64url'), '']) {
			const err = await listAssets(t.db, user, { limit: 10, cursor: cursor || 'e30' }).catch((e: unknown) => e);
			expect(err).toBeInstanceOf(ValidationError);
		}
	});
});

describe('filters', () => {
	it('filters by media type, status, workspace and provider, and searches filenames literally', async () => {
		const { user } = await makeUser(t.db);
		const { user: other } = await makeUser(t.db);
		const w = await createWorkspace(t.db, user, { name: 'W' });
		const video = await makeAsset(t.db, user.id, { mediaType: 'video', mime: 'video/mp4', originalFilename: 'Holiday_clip.mp4' });
		const failed = await makeAsset(t.db, user.id, { status: 'failed', originalFilename: '100% done.png' });
		const inWorkspace = await makeAsset(t.db, user.id, { workspaceId: w.id, originalFilename: 'holidayXclip.png' });
		const generated = await makeAsset(t.db, user.id, { providerId: 'pixverse', providerAssetId: 'p-1', originalFilename: null });
		const trashed = await makeAsset(t.db, user.id, { deletedAt: new Date(), originalFilename: 'holiday_trash.png' });
		const purged = await makeAsset(t.db, user.id, { deletedAt: new Date(), purgedAt: new Date() });
		const uploading = await makeAsset(t.db, user.id, { status: 'uploading', originalFilename: 'holiday_partial.png' });
		await makeAsset(t.db, other.id, { originalFilename: 'Holiday_clip.mp4' });

		const ids = async (f: Partial<AssetFilters>) => (await listAssets(t.db, user, { limit: 60, ...f })).items.map((i) => i.asset.id);
		expect((await ids({})).sort()).toEqual([video.id, failed.id, inWorkspace.id, generated.id].sort());
		expect(await ids({ mediaType: 'video' })).toEqual([video.id]);
		expect(await ids({ status: 'failed' })).toEqual([failed.id]);
		// An upload still receiving bytes is partial: only an explicit status filter shows it.
		expect(await ids({ status: 'uploading' })).toEqual([uploading.id]);
		expect(await ids({ workspaceId: w.id })).toEqual([inWorkspace.id]);
		expect(await ids({ providerId: 'pixverse' })).toEqual([generated.id]);
		// `_` and `%` are literal, not wildcards; case is ignored.
		expect(await ids({ q: 'holiday_' })).toEqual([video.id]);
		expect(await ids({ q: '100%' })).toEqual([failed.id]);
		expect(await ids({ q: 'HOLIDAY' })).toEqual(expect.arrayContaining([video.id, inWorkspace.id]));
		expect(await ids({ trash: true })).toEqual([trashed.id]);
		expect(await ids({ trash: true, q: 'holiday' })).toEqual([trashed.id]);
		expect([...(await ids({})), ...(await ids({ trash: true }))]).not.toContain(purged.id);
	});

	it('finds generated assets by the prompt of their job, and each item carries its variants and that job’s operation', async () => {
		const { user } = await makeUser(t.db);
		const { user: other } = await makeUser(t.db);
		const [job] = await t.db
			.insert(jobs)
			.values({ ownerId: user.id, operationType: 'image_to_video', providerId: 'pixverse', params: {}, prompt: 'A red fox running through snow' })
			.returning();
		const [theirJob] = await t.db
			.insert(jobs)
			.values({ ownerId: other.id, operationType: 'text_to_video', providerId: 'pixverse', params: {}, prompt: 'red fox' })
			.returning();
		const generated = await makeAsset(t.db, user.id, { providerId: 'pixverse', providerAssetId: 'fox-1', sourceJobId: job.id, originalFilename: null });
		await makeAsset(t.db, other.id, { providerId: 'pixverse', providerAssetId: 'fox-2', sourceJobId: theirJob.id });
		const upload = await makeAsset(t.db, user.id, { originalFilename: 'fox.png' });
		const processing = await makeAsset(t.db, user.id, { status: 'processing', originalFilename: 'snowfield.png' });
		await t.db.insert(assetVariants).values(
			[upload, processing].flatMap((a) =>
				[256, 1024].map((size) => ({ assetId: a.id, kind: 'thumb' as const, size, format: 'webp', width: size, height: size, byteSize: 1, storageKey: `derived/${a.id}/${size}` }))
			)
		);

		const page = await listAssets(t.db, user, { limit: 60, q: 'RED FOX' });
		expect(page.items.map((i) => [i.asset.id, i.operationType])).toEqual([[generated.id, 'image_to_video']]);
		expect((await listAssets(t.db, user, { limit: 60, q: 'fox' })).items.map((i) => i.asset.id).sort()).toEqual([generated.id, upload.id].sort());
		expect((await listAssets(t.db, user, { limit: 60, q: 'snow' })).items.map((i) => i.asset.id).sort()).toEqual([generated.id, processing.id].sort());

		const all = new Map((await listAssets(t.db, user, { limit: 60 })).items.map((i) => [i.asset.id, i]));
		expect(all.get(upload.id)?.operationType).toBeNull();
		expect(all.get(upload.id)?.variants.map((v) => v.size).sort()).toEqual([1024, 256]);
		// Variants of an asset that is not ready are not offered (its image routes answer 404).
		expect(all.get(processing.id)?.variants).toEqual([]);
	});

	it('answers 404 for a workspace filter naming another user’s workspace', async () => {
		const { user } = await makeUser(t.db);
		const { user: other } = await makeUser(t.db);
		const theirs = await createWorkspace(t.db, other, { name: 'Theirs' });
		await expect(listAssets(t.db, user, { limit: 10, workspaceId: theirs.id })).rejects.toBeInstanceOf(NotFoundError);
	});
});

describe('the list query plan', () => {
	it('reads the owner’s keyset index in order, as the generic plan of the prepared statement: no sort, whichever page', async () => {
		const filters: AssetFilters[] = [
			{ limit: 60 },
			{ limit: 60, cursor: encodeCursor({ at: '2026-01-01T00:00:00.000000Z', id: '00000000-0000-4000-8000-000000000000' }) },
			{ limit: 60, cursor: encodeCursor({ at: '2026-01-01T00:00:00.000000Z', id: '00000000-0000-4000-8000-000000000000' }), q: 'x', mediaType: 'image' }
		];
		for (const f of filters) {
			const plan = await t.db.transaction(async (tx) => {
				// A tiny table would be scanned whole; the point is which order the index gives.
				await tx.execute(sql`set local enable_seqscan = off`);
				// After five runs PostgreSQL may switch a prepared statement to its generic plan: check that one.
				const rows = await tx.execute(sql.raw(`explain (generic_plan) ${assetPageSql(t.db, f)}`));
				return rows.map((r) => String(Object.values(r)[0])).join('\n');
			});
			expect(plan).toContain('assets_owner_created_idx');
			expect(plan).not.toMatch(/\bSort\b/);
		}
	});
});
