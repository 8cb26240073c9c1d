import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiToken, listApiTokens, revokeApiToken, validateApiToken } from '../../src/lib/server/auth/api-tokens';
import { authenticateBearer } from '../../src/lib/server/auth/service';
import { hashToken } from '../../src/lib/server/auth/tokens';
import { apiTokens, users, type ApiToken } from '../../src/lib/server/db/schema';
import { NotFoundError } from '../../src/lib/server/errors';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { makeUser } from '../support/factories';

const DAY_MS = 24 * 60 * 60 * 1000;

let t: TestDatabase;
beforeAll(async () => {
	t = await createTestDatabase();
});
afterAll(async () => {
	await t.destroy();
});

async function row(id: string): Promise<ApiToken | undefined> {
	const [found] = await t.db.select().from(apiTokens).where(eq(apiTokens.id, id));
	return found;
}

describe('createApiToken', () => {
	it('returns a prefixed token once and stores only its hash and first characters', async () => {
		const { user } = await makeUser(t.db);
		const { token, apiToken } = await createApiToken(t.db, user.id, { name: 'backup script' });
		expect(token).toMatch(/^pxs7_[a-z2-7]{32}$/);
		const stored = await row(apiToken.id);
		expect(stored).toMatchObject({ userId: user.id, name: 'backup script', tokenPrefix: token.slice(0, 9), expiresAt: null, lastUsedAt: null });
		expect(stored?.tokenHash).toBe(hashToken(token));
		expect(Object.values(stored ?? {})).not.toContain(token);
	});

	it('sets the expiry from expiresInDays, and none for null', async () => {
		const { user } = await makeUser(t.db);
		const { apiToken } = await createApiToken(t.db, user.id, { name: 'week', expiresInDays: 7 });
		expect(Math.abs((apiToken.expiresAt?.getTime() ?? 0) - (Date.now() + 7 * DAY_MS))).toBeLessThan(5000);
		expect((await createApiToken(t.db, user.id, { name: 'forever', expiresInDays: null })).apiToken.expiresAt).toBeNull();
	});
});

describe('validateApiToken', () => {
	it('answers the token and its owner, and null for an unknown token', async () => {
		const { user } = await makeUser(t.db);
		const { token, apiToken } = await createApiToken(t.db, user.id, { name: 'ci' });
		const found = await validateApiToken(t.db, token);
		expect(found?.user.id).toBe(user.id);
		expect(found?.apiToken.id).toBe(apiToken.id);
		expect(await validateApiToken(t.db, 'pxs7_abcdefghijklmnopqrstuvwxyz234567')).toBeNull();
	});

	it('records last_used_at on use, at most once a minute', async () => {
		const { user } = await makeUser(t.db);
		const { token, apiToken } = await createApiToken(t.db, user.id, { name: 'ci' });
		await validateApiToken(t.db, token);
		const firstUse = (await row(apiToken.id))?.lastUsedAt;
		expect(Date.now() - (firstUse?.getTime() ?? 0)).toBeLessThan(5000);

		const recent = new Date(Date.now() - 30_000);
		await t.db.update(apiTokens).set({ lastUsedAt: recent }).where(eq(apiTokens.id, apiToken.id));
		await validateApiToken(t.db, token);
		expect((await row(apiToken.id))?.lastUsedAt?.getTime()).toBe(recent.getTime());

		await t.db.update(apiTokens).set({ lastUsedAt: new Date(Date.now() - 5 * 60_000) }).where(eq(apiTokens.id, apiToken.id));
		await validateApiToken(t.db, token);
		expect(Date.now() - ((await row(apiToken.id))?.lastUsedAt?.getTime() ?? 0)).toBeLessThan(5000);
	});

	it('answers null for an expired token, without touching last_used_at', async () => {
		const { user } = await makeUser(t.db);
		const { token, apiToken } = await createApiToken(t.db, user.id, { name: 'old', expiresInDays: 1 });
		await t.db.update(apiTokens).set({ expiresAt: new Date(Date.now() - 1000) }).where(eq(apiTokens.id, apiToken.id));
		expect(await validateApiToken(t.db, token)).toBeNull();
		expect((await row(apiToken.id))?.lastUsedAt).toBeNull();
	});

	it('answers null once the owner is inactive', async () => {
		const { user } = await makeUser(t.db);
		const { token } = await createApiToken(t.db, user.id, { name: 'ci' });
		await t.db.update(users).set({ isActive: false }).where(eq(users.id, user.id));
		expect(await validateApiToken(t.db, token)).toBeNull();
	});
});

describe('revokeApiToken and listApiTokens', () => {
	it('revokes the owner’s token so it no longer validates', async () => {
		const { user } = await makeUser(t.db);
		const { token, apiToken } = await createApiToken(t.db, user.id, { name: 'gone soon' });
		await revokeApiToken(t.db, user.id, apiToken.id);
		expect(await validateApiToken(t.db, token)).toBeNull();
		await expect(revokeApiToken(t.db, user.id, apiToken.id)).rejects.toBeInstanceOf(NotFoundError);
	});

	it('answers NotFound for another user’s token and leaves it working', async () => {
		const mallory = await makeUser(t.db);
		const alice = await makeUser(t.db);
		const { token, apiToken } = await createApiToken(t.db, alice.user.id, { name: 'alice' });
		await expect(revokeApiToken(t.db, mallory.user.id, apiToken.id)).rejects.toBeInstanceOf(NotFoundError);
		expect(await validateApiToken(t.db, token)).not.toBeNull();
	});

	it('lists only the user’s tokens, newest first', async () => {
		const alice = await makeUser(t.db);
		const bob = await makeUser(t.db);
		const first = await createApiToken(t.db, alice.user.id, { name: 'first' });
		await createApiToken(t.db, bob.user.id, { name: 'bob' });
		const second = await createApiToken(t.db, alice.user.id, { name: 'second' });
		expect((await listApiTokens(t.db, alice.user.id)).map((k) => k.id)).toEqual([second.apiToken.id, first.apiToken.id]);
	});
});

describe('authenticateBearer', () => {
	const cfg = { SESSION_TTL_DAYS: 30 };

	it('tells an API token from a session token', async () => {
		const { user, token: sessionToken } = await makeUser(t.db);
		const { token, apiToken } = await createApiToken(t.db, user.id, { name: 'ci' });

		const byApiToken = await authenticateBearer(t.db, token, cfg);
		expect(byApiToken).toMatchObject({ user: { id: user.id }, session: null, apiToken: { id: apiToken.id } });

		const bySession = await authenticateBearer(t.db, sessionToken, cfg);
		expect(bySession?.user.id).toBe(user.id);
		expect(bySession?.apiToken).toBeNull();
		expect(bySession?.session?.tokenHash).toBe(hashToken(sessionToken));
	});

	it('answers null for anything else', async () => {
		for (const token of ['', 'garbage', 'pxs7_', 'pxs7_abcdefghijklmnopqrstuvwxyz234567', 'abcdefghijklmnopqrstuvwxyz234567']) {
			expect(await authenticateBearer(t.db, token, cfg)).toBeNull();
		}
	});
});
