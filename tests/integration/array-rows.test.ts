/**
 * The hot lookups read array-mode rows with columnReader instead of drizzle's row mapper
 * (db/prepared.ts). They must answer exactly what drizzle's own select answers: every column,
 * Dates and numbers mapped the same, nulls kept, and a left-joined row that is absent as null.
 */
import { eq, inArray } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiToken, validateApiToken } from '../../src/lib/server/auth/api-tokens';
import { validateSessionToken } from '../../src/lib/server/auth/sessions';
import { hashToken } from '../../src/lib/server/auth/tokens';
import { selectAssetPage } from '../../src/lib/server/assets/queries';
import { apiTokens, assets, dailyUsage, sessions, users } from '../../src/lib/server/db/schema';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { makeUser } from '../support/factories';

let t: TestDatabase;
beforeAll(async () => {
	t = await createTestDatabase();
});
afterAll(() => t.destroy());

describe('rows read with columnReader', () => {
	it('the gallery page answers each asset as drizzle selects it, optional columns set or null', async () => {
		const { user } = await makeUser(t.db);
		const base = { ownerId: user.id, mediaType: 'image' as const, mime: 'image/png', status: 'ready' as const, fileSizeBytes: 5_000_000_000 };
		await t.db.insert(assets).values([
			{ ...base, sha256: 'a'.repeat(64), originalFilename: 'bare.png' },
			{
				...base,
				sha256: 'b'.repeat(64),
				width: 640,
				height: 480,
				durationSec: 1.5,
				storageKey: 'originals/b.png',
				storageBytesCharged: 4_000_000_000,
				downloadedAt: new Date('2026-01-02T03:04:05.678Z'),
				lastAccessedAt: new Date('2026-02-03T04:05:06.789Z'),
				placeholderHash: 'hash'
			}
		]);
		const page = await selectAssetPage(t.db, user.id, { limit: 10 });
		const expected = await t.db.select().from(assets).where(inArray(assets.id, page.items.map((i) => i.asset.id)));
		expect(page.items).toHaveLength(2);
		for (const item of page.items) {
			expect(item.asset).toStrictEqual(expected.find((row) => row.id === item.asset.id));
			expect(item.variants).toEqual([]);
			expect(item.operationType).toBeNull();
		}
	});

	it('a session lookup answers the session and user as drizzle selects them, and today’s usage with or without a row', async () => {
		const { user, token } = await makeUser(t.db);
		const [session] = await t.db.select().from(sessions).where(eq(sessions.tokenHash, hashToken(token)));
		const [userRow] = await t.db.select().from(users).where(eq(users.id, user.id));

		const before = await validateSessionToken(t.db, token, 30);
		expect(before?.session).toStrictEqual(session);
		expect(before?.user).toStrictEqual(userRow);
		expect(before?.usageToday).toEqual({ day: before?.usageToday.day, jobsCreated: 0, assetsCreated: 0, bytesAdded: 0 });

		const day = new Date().toISOString().slice(0, 10);
		await t.db.insert(dailyUsage).values({ userId: user.id, day, jobsCreated: 3, assetsCreated: 2, bytesAdded: 6_000_000_000 });
		const after = await validateSessionToken(t.db, token, 30);
		expect(after?.usageToday).toEqual({ day, jobsCreated: 3, assetsCreated: 2, bytesAdded: 6_000_000_000 });
	});

	it('an API token lookup answers the token and user as drizzle selects them', async () => {
		const { user } = await makeUser(t.db);
		const { token } = await createApiToken(t.db, user.id, { name: 'script', expiresInDays: 7 });
		const found = await validateApiToken(t.db, token);
		const [tokenRow] = await t.db.select().from(apiTokens).where(eq(apiTokens.tokenHash, hashToken(token)));
		const [userRow] = await t.db.select().from(users).where(eq(users.id, user.id));
		expect(found?.apiToken).toStrictEqual(tokenRow);
		expect(found?.user).toStrictEqual(userRow);
		expect(found?.usageToday.jobsCreated).toBe(0);
	});
});
