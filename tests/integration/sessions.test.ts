import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
	createSession,
	invalidateSession,
	listSessions,
	purgeExpiredSessions,
	revokeOtherSessions,
	revokeSession,
	validateSessionToken
} from '../../src/lib/server/auth/sessions';
import { hashToken } from '../../src/lib/server/auth/tokens';
import { sessions, users, type Session } from '../../src/lib/server/db/schema';
import { NotFoundError } from '../../src/lib/server/errors';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { makeUser } from '../support/factories';

const TTL_DAYS = 30;
const DAY_MS = 24 * 60 * 60 * 1000;
const TTL_MS = TTL_DAYS * DAY_MS;
const client = { ipAddress: '127.0.0.1', userAgent: 'sessions-test' };

let t: TestDatabase;
beforeAll(async () => {
	t = await createTestDatabase();
});
afterAll(async () => {
	await t.destroy();
});

async function row(id: string): Promise<Session | undefined> {
	const [found] = await t.db.select().from(sessions).where(eq(sessions.id, id));
	return found;
}

async function setTimes(id: string, times: { expiresAt?: Date; lastSeenAt?: Date }): Promise<void> {
	await t.db.update(sessions).set(times).where(eq(sessions.id, id));
}

describe('createSession', () => {
	it('stores only the SHA-256 of a random token, with a full TTL and the client', async () => {
		const { user } = await makeUser(t.db);
		const { token, session } = await createSession(t.db, user.id, { ipAddress: '192.0.2.1', userAgent: 'x'.repeat(600) }, TTL_DAYS);
		expect(token).toMatch(/^[a-z2-7]{32}$/);
		const stored = await row(session.id);
		expect(stored?.tokenHash).toBe(hashToken(token));
		expect(stored?.tokenHash).not.toContain(token);
		expect(stored?.ipAddress).toBe('192.0.2.1');
		expect(stored?.userAgent).toHaveLength(512);
		expect(Math.abs((stored?.expiresAt.getTime() ?? 0) - (Date.now() + TTL_MS))).toBeLessThan(5000);
	});
});

describe('validateSessionToken', () => {
	it('answers the session and its user for a valid token, and null for an unknown one', async () => {
		const { user, token } = await makeUser(t.db);
		const found = await validateSessionToken(t.db, token, TTL_DAYS);
		expect(found?.user.id).toBe(user.id);
		expect(found?.session.tokenHash).toBe(hashToken(token));
		expect(await validateSessionToken(t.db, 'abcdefghijklmnopqrstuvwxyz234567', TTL_DAYS)).toBeNull();
	});

	it('renews to the full TTL a session with less than half of it left', async () => {
		const { user } = await makeUser(t.db);
		const { token, session } = await createSession(t.db, user.id, client, TTL_DAYS);
		await setTimes(session.id, { expiresAt: new Date(Date.now() + TTL_MS * 0.4) });

		const found = await validateSessionToken(t.db, token, TTL_DAYS);
		const expected = Date.now() + TTL_MS;
		expect(Math.abs((found?.session.expiresAt.getTime() ?? 0) - expected)).toBeLessThan(5000);
		expect(Math.abs(((await row(session.id))?.expiresAt.getTime() ?? 0) - expected)).toBeLessThan(5000);
	});

	it('leaves the expiry alone while more than half of the TTL is left', async () => {
		const { user } = await makeUser(t.db);
		const { token, session } = await createSession(t.db, user.id, client, TTL_DAYS);
		const expiresAt = new Date(Date.now() + TTL_MS * 0.6);
		await setTimes(session.id, { expiresAt, lastSeenAt: new Date(Date.now() - 10 * 60 * 1000) });

		const found = await validateSessionToken(t.db, token, TTL_DAYS);
		expect(found?.session.expiresAt.getTime()).toBe(expiresAt.getTime());
		const stored = await row(session.id);
		expect(stored?.expiresAt.getTime()).toBe(expiresAt.getTime());
		// last_seen_at was ten minutes old, so it moved to now.
		expect(Date.now() - (stored?.lastSeenAt.getTime() ?? 0)).toBeLessThan(5000);
	});

	it('does not rewrite last_seen_at more than once a minute', async () => {
		const { user } = await makeUser(t.db);
		const { token, session } = await createSession(t.db, user.id, client, TTL_DAYS);
		const lastSeenAt = new Date(Date.now() - 20_000);
		await setTimes(session.id, { lastSeenAt });
		await validateSessionToken(t.db, token, TTL_DAYS);
		expect((await row(session.id))?.lastSeenAt.getTime()).toBe(lastSeenAt.getTime());
	});

	it('answers null for an expired session and deletes its row', async () => {
		const { user } = await makeUser(t.db);
		const { token, session } = await createSession(t.db, user.id, client, TTL_DAYS);
		await setTimes(session.id, { expiresAt: new Date(Date.now() - 1000) });
		expect(await validateSessionToken(t.db, token, TTL_DAYS)).toBeNull();
		expect(await row(session.id)).toBeUndefined();
	});

	it('answers null once the user is inactive', async () => {
		const { user, token } = await makeUser(t.db);
		expect(await validateSessionToken(t.db, token, TTL_DAYS)).not.toBeNull();
		await t.db.update(users).set({ isActive: false }).where(eq(users.id, user.id));
		expect(await validateSessionToken(t.db, token, TTL_DAYS)).toBeNull();
	});

	it('answers null after invalidateSession', async () => {
		const { user } = await makeUser(t.db);
		const { token, session } = await createSession(t.db, user.id, client, TTL_DAYS);
		await invalidateSession(t.db, session.id);
		expect(await validateSessionToken(t.db, token, TTL_DAYS)).toBeNull();
	});
});

describe('listSessions', () => {
	it('lists the user’s live sessions, most recently seen first', async () => {
		const { user, token } = await makeUser(t.db);
		const { session: older } = await createSession(t.db, user.id, client, TTL_DAYS);
		const { session: expired } = await createSession(t.db, user.id, client, TTL_DAYS);
		await setTimes(older.id, { lastSeenAt: new Date(Date.now() - 60 * 60 * 1000) });
		await setTimes(expired.id, { expiresAt: new Date(Date.now() - 1000) });
		await makeUser(t.db); // someone else's session

		const current = await validateSessionToken(t.db, token, TTL_DAYS);
		const listed = await listSessions(t.db, user.id);
		expect(listed.map((s) => s.id)).toEqual([current?.session.id, older.id]);
	});
});

describe('revokeSession', () => {
	it('revokes one of the user’s own sessions', async () => {
		const { user, token } = await makeUser(t.db);
		const found = await validateSessionToken(t.db, token, TTL_DAYS);
		await revokeSession(t.db, user.id, found?.session.id ?? '');
		expect(await validateSessionToken(t.db, token, TTL_DAYS)).toBeNull();
	});

	it('answers NotFound for another user’s session and leaves it alone', async () => {
		const mallory = await makeUser(t.db);
		const alice = await makeUser(t.db);
		const aliceSession = (await validateSessionToken(t.db, alice.token, TTL_DAYS))?.session.id ?? '';
		await expect(revokeSession(t.db, mallory.user.id, aliceSession)).rejects.toBeInstanceOf(NotFoundError);
		expect(await validateSessionToken(t.db, alice.token, TTL_DAYS)).not.toBeNull();
	});

	it('answers NotFound for an unknown session id', async () => {
		const { user } = await makeUser(t.db);
		await expect(revokeSession(t.db, user.id, '00000000-0000-4000-8000-000000000000')).rejects.toBeInstanceOf(NotFoundError);
	});
});

describe('revokeOtherSessions', () => {
	it('ends every session of the user but the one kept, and nobody else’s', async () => {
		const { user, token } = await makeUser(t.db);
		const kept = await createSession(t.db, user.id, client, TTL_DAYS);
		await createSession(t.db, user.id, client, TTL_DAYS);
		const bystander = await makeUser(t.db);

		expect(await revokeOtherSessions(t.db, user.id, kept.session.id)).toBe(2);
		expect((await listSessions(t.db, user.id)).map((s) => s.id)).toEqual([kept.session.id]);
		expect(await validateSessionToken(t.db, token, TTL_DAYS)).toBeNull();
		expect(await validateSessionToken(t.db, bystander.token, TTL_DAYS)).not.toBeNull();
	});

	it('ends all of them when there is no session to keep (an API-token request)', async () => {
		const { user } = await makeUser(t.db);
		await createSession(t.db, user.id, client, TTL_DAYS);
		expect(await revokeOtherSessions(t.db, user.id, null)).toBe(2);
		expect(await listSessions(t.db, user.id)).toEqual([]);
	});
});

describe('purgeExpiredSessions', () => {
	let own: TestDatabase;
	beforeAll(async () => {
		own = await createTestDatabase();
	});
	afterAll(async () => {
		await own.destroy();
	});

	it('deletes the expired rows, and only those', async () => {
		const { user, token } = await makeUser(own.db);
		const a = await createSession(own.db, user.id, client, TTL_DAYS);
		const b = await createSession(own.db, user.id, client, TTL_DAYS);
		await own.db.update(sessions).set({ expiresAt: new Date(Date.now() - 1000) }).where(eq(sessions.id, a.session.id));
		await own.db.update(sessions).set({ expiresAt: new Date('2020-01-01T00:00:00Z') }).where(eq(sessions.id, b.session.id));

		expect(await purgeExpiredSessions(own.db)).toBe(2);
		const left = await own.db.select({ id: sessions.id }).from(sessions);
		expect(left).toHaveLength(1);
		expect(await validateSessionToken(own.db, token, TTL_DAYS)).not.toBeNull();
		expect(await purgeExpiredSessions(own.db)).toBe(0);
	});

	it('uses the instant it is given', async () => {
		const { user } = await makeUser(own.db); // with a 30-day session
		const { session: oneDay } = await createSession(own.db, user.id, client, 1);
		expect(await purgeExpiredSessions(own.db, new Date(Date.now() + 2 * DAY_MS))).toBe(1);
		const left = await own.db.select({ id: sessions.id }).from(sessions).where(eq(sessions.userId, user.id));
		expect(left).toHaveLength(1);
		expect(left[0].id).not.toBe(oneDay.id);
	});
});
