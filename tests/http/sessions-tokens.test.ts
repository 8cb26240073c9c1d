/** Sessions and personal API tokens over HTTP against the built app. */
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiTokenList, CreatedApiToken, SessionList } from '../../src/lib/schemas/auth';
import { apiTokens, sessions } from '../../src/lib/server/db/schema';
import { hashToken } from '../../src/lib/server/auth/tokens';
import { startAppServer, type AppServer } from '../support/app-server';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { ApiClient, expectError, loginViaApi, parseBody, registerViaApi, type RegisteredUser } from '../support/http';
import { expectNoServerErrors } from '../support/logs';

const DAY_MS = 24 * 60 * 60 * 1000;
const UNKNOWN_ID = '7d0f1e52-5a3b-4c1e-9a51-2b2f7a0c9d11';

let t: TestDatabase;
let server: AppServer;
let api: ApiClient;

beforeAll(async () => {
	t = await createTestDatabase();
	server = await startAppServer(t.url, { SESSION_TTL_DAYS: '10' });
	api = new ApiClient(server.url);
	await registerViaApi(api); // the admin, so everyone below is a plain user
});
afterAll(async () => {
	await server?.stop();
	await t?.destroy();
});

async function sessionIdOf(token: string): Promise<string> {
	const [row] = await t.db.select({ id: sessions.id }).from(sessions).where(eq(sessions.tokenHash, hashToken(token)));
	return row.id;
}

async function listSessionsAs(token: string) {
	const res = await api.get('/api/v1/auth/sessions', { token });
	expect(res.status).toBe(200);
	return parseBody(SessionList, res).items;
}

describe('GET /api/v1/auth/sessions', () => {
	it('lists the user’s live sessions with where they came from, and marks the current one', async () => {
		const user = await registerViaApi(api, { headers: { 'user-agent': 'register-agent/1' } });
		const second = await loginViaApi(api, user, { 'user-agent': 'login-agent/2' });

		const items = await listSessionsAs(user.token);
		expect(items).toHaveLength(2);
		for (const item of items) {
			expect(Object.keys(item).sort()).toEqual(['created_at', 'current', 'expires_at', 'id', 'ip_address', 'last_seen_at', 'user_agent']);
			expect(item.ip_address).toContain('127.0.0.1');
			// SESSION_TTL_DAYS=10 on this server
			expect(Math.abs(Date.parse(item.expires_at) - (Date.now() + 10 * DAY_MS))).toBeLessThan(60_000);
		}
		const current = items.filter((s) => s.current);
		expect(current.map((s) => s.id)).toEqual([await sessionIdOf(user.token)]);
		expect(current[0].user_agent).toBe('register-agent/1');
		expect(items.find((s) => !s.current)?.user_agent).toBe('login-agent/2');

		// From the other session, the other one is current.
		const fromSecond = await listSessionsAs(second);
		expect(fromSecond.filter((s) => s.current).map((s) => s.id)).toEqual([await sessionIdOf(second)]);
	});

	it('leaves out expired sessions and never shows other users’ sessions', async () => {
		const user = await registerViaApi(api);
		const stale = await loginViaApi(api, user);
		await t.db.update(sessions).set({ expiresAt: new Date(Date.now() - 1000) }).where(eq(sessions.tokenHash, hashToken(stale)));
		await registerViaApi(api); // someone else, with a session of their own

		const items = await listSessionsAs(user.token);
		expect(items.map((s) => s.id)).toEqual([await sessionIdOf(user.token)]);
	});
});

describe('DELETE /api/v1/auth/sessions/{id}', () => {
	it('revokes one of my sessions (204): its token stops working, mine goes on', async () => {
		const user = await registerViaApi(api);
		const laptop = await loginViaApi(api, user);
		const res = await api.delete(`/api/v1/auth/sessions/${await sessionIdOf(laptop)}`, { token: user.token });
		expect(res.status).toBe(204);
		expect(res.text).toBe('');
		expectError(await api.get('/api/v1/users/me', { token: laptop }), 'unauthorized');
		expect((await api.get('/api/v1/users/me', { token: user.token })).status).toBe(200);
		expect(await listSessionsAs(user.token)).toHaveLength(1);
	});

	it('answers 404 for a session already revoked, for an unknown id and for a malformed id', async () => {
		const user = await registerViaApi(api);
		const other = await loginViaApi(api, user);
		const id = await sessionIdOf(other);
		expect((await api.delete(`/api/v1/auth/sessions/${id}`, { token: user.token })).status).toBe(204);
		expectError(await api.delete(`/api/v1/auth/sessions/${id}`, { token: user.token }), 'not_found');
		expectError(await api.delete(`/api/v1/auth/sessions/${UNKNOWN_ID}`, { token: user.token }), 'not_found');
		expectError(await api.delete('/api/v1/auth/sessions/12345', { token: user.token }), 'not_found');
	});

	it('answers 404 for another user’s session, and leaves that session working', async () => {
		const mallory = await registerViaApi(api);
		const alice = await registerViaApi(api);
		const aliceSession = await sessionIdOf(alice.token);
		expectError(await api.delete(`/api/v1/auth/sessions/${aliceSession}`, { token: mallory.token }), 'not_found');
		expect((await api.get('/api/v1/users/me', { token: alice.token })).status).toBe(200);
	});

	it('can revoke the current session itself', async () => {
		const user = await registerViaApi(api);
		expect((await api.delete(`/api/v1/auth/sessions/${await sessionIdOf(user.token)}`, { token: user.token })).status).toBe(204);
		expectError(await api.get('/api/v1/users/me', { token: user.token }), 'unauthorized');
	});
});

describe('POST /api/v1/auth/sessions/revoke-others', () => {
	it('ends every other session of mine, keeps this one, and leaves other users alone', async () => {
		const user = await registerViaApi(api);
		const phone = await loginViaApi(api, user);
		const tablet = await loginViaApi(api, user);
		const bystander = await registerViaApi(api);

		const res = await api.post('/api/v1/auth/sessions/revoke-others', undefined, { token: phone });
		expect(res.status).toBe(200);
		expect(res.body).toEqual({ revoked: 2 });

		expect((await api.get('/api/v1/users/me', { token: phone })).status).toBe(200);
		expectError(await api.get('/api/v1/users/me', { token: user.token }), 'unauthorized');
		expectError(await api.get('/api/v1/users/me', { token: tablet }), 'unauthorized');
		expect((await api.get('/api/v1/users/me', { token: bystander.token })).status).toBe(200);
		expect((await listSessionsAs(phone)).map((s) => s.current)).toEqual([true]);

		expect((await api.post('/api/v1/auth/sessions/revoke-others', undefined, { token: phone })).body).toEqual({ revoked: 0 });
	});

	it('called with an API token, ends all of the user’s sessions (none is current) but not the token', async () => {
		const user = await registerViaApi(api);
		const created = parseBody(CreatedApiToken, await api.post('/api/v1/auth/tokens', { name: 'cleanup' }, { token: user.token }));
		const listed = await listSessionsAs(created.token);
		expect(listed.map((s) => s.current)).toEqual([false]);

		const res = await api.post('/api/v1/auth/sessions/revoke-others', undefined, { token: created.token });
		expect(res.body).toEqual({ revoked: 1 });
		expectError(await api.get('/api/v1/users/me', { token: user.token }), 'unauthorized');
		expect((await api.get('/api/v1/users/me', { token: created.token })).status).toBe(200);
	});
});

describe('API tokens', () => {
	let owner: RegisteredUser;
	beforeAll(async () => {
		owner = await registerViaApi(api);
	});

	it('creates a token (201), shown once, that works as a bearer token', async () => {
		const res = await api.post('/api/v1/auth/tokens', { name: '  nightly export  ' }, { token: owner.token });
		expect(res.status).toBe(201);
		const created = parseBody(CreatedApiToken, res);
		expect(created).toMatchObject({ name: 'nightly export', expires_at: null, last_used_at: null });
		expect(created.token).toMatch(/^pxs7_[a-z2-7]{32}$/);
		expect(created.token_prefix).toBe(created.token.slice(0, 9));

		const me = await api.get('/api/v1/users/me', { token: created.token });
		expect(me.status).toBe(200);
		expect(me.body).toMatchObject({ id: owner.id });

		// Only its hash is stored, and the list never shows it again.
		const [row] = await t.db.select().from(apiTokens).where(eq(apiTokens.id, created.id));
		expect(row.tokenHash).toBe(hashToken(created.token));
		const list = await api.get('/api/v1/auth/tokens', { token: owner.token });
		expect(list.text).not.toContain(created.token);
		const listed = parseBody(ApiTokenList, list).items.find((i) => i.id === created.id);
		expect(listed).toBeDefined();
		expect(Object.keys(listed ?? {})).not.toContain('token');
		expect(listed?.last_used_at).not.toBeNull();
	});

	it('lists my tokens newest first, and only mine', async () => {
		const user = await registerViaApi(api);
		const first = parseBody(CreatedApiToken, await api.post('/api/v1/auth/tokens', { name: 'first' }, { token: user.token }));
		const second = parseBody(CreatedApiToken, await api.post('/api/v1/auth/tokens', { name: 'second' }, { token: user.token }));
		await api.post('/api/v1/auth/tokens', { name: 'someone else’s' }, { token: owner.token });

		const items = parseBody(ApiTokenList, await api.get('/api/v1/auth/tokens', { token: user.token })).items;
		expect(items.map((i) => i.id)).toEqual([second.id, first.id]);
	});

	it('sets an expiry when asked, and an expired token answers 401', async () => {
		const created = parseBody(
			CreatedApiToken,
			await api.post('/api/v1/auth/tokens', { name: 'short-lived', expires_in_days: 7 }, { token: owner.token })
		);
		expect(Math.abs(Date.parse(created.expires_at ?? '') - (Date.now() + 7 * DAY_MS))).toBeLessThan(60_000);
		expect((await api.get('/api/v1/users/me', { token: created.token })).status).toBe(200);

		await t.db.update(apiTokens).set({ expiresAt: new Date(Date.now() - 1000) }).where(eq(apiTokens.id, created.id));
		expectError(await api.get('/api/v1/users/me', { token: created.token }), 'unauthorized');
	});

	it('revokes a token (204): it answers 401 at once, and a second revoke is 404', async () => {
		const created = parseBody(CreatedApiToken, await api.post('/api/v1/auth/tokens', { name: 'to revoke' }, { token: owner.token }));
		const res = await api.delete(`/api/v1/auth/tokens/${created.id}`, { token: owner.token });
		expect(res.status).toBe(204);
		expectError(await api.get('/api/v1/users/me', { token: created.token }), 'unauthorized');
		expectError(await api.delete(`/api/v1/auth/tokens/${created.id}`, { token: owner.token }), 'not_found');
		expectError(await api.delete(`/api/v1/auth/tokens/${UNKNOWN_ID}`, { token: owner.token }), 'not_found');
		expectError(await api.delete('/api/v1/auth/tokens/abc', { token: owner.token }), 'not_found');
	});

	it('answers 404 for another user’s token id, and that token keeps working', async () => {
		const mallory = await registerViaApi(api);
		const created = parseBody(CreatedApiToken, await api.post('/api/v1/auth/tokens', { name: 'mine' }, { token: owner.token }));
		expectError(await api.delete(`/api/v1/auth/tokens/${created.id}`, { token: mallory.token }), 'not_found');
		expect((await api.get('/api/v1/users/me', { token: created.token })).status).toBe(200);
	});

	it('is not a session: logout with it changes nothing, and signing out does not revoke it', async () => {
		const user = await registerViaApi(api);
		const created = parseBody(CreatedApiToken, await api.post('/api/v1/auth/tokens', { name: 'script' }, { token: user.token }));
		expect((await api.post('/api/v1/auth/logout', undefined, { token: created.token })).status).toBe(204);
		expect((await api.get('/api/v1/users/me', { token: created.token })).status).toBe(200);
		expect((await api.post('/api/v1/auth/logout', undefined, { token: user.token })).status).toBe(204);
		expect((await api.get('/api/v1/users/me', { token: created.token })).status).toBe(200);
	});

	it('answers 400 with field details for a bad name or expiry', async () => {
		for (const body of [{}, { name: '   ' }, { name: 'x'.repeat(101) }, { name: 'ok', expires_in_days: 0 }, { name: 'ok', expires_in_days: 1.5 }]) {
			const error = expectError(await api.post('/api/v1/auth/tokens', body, { token: owner.token }), 'validation_error');
			expect(error.details).toMatchObject({ fields: expect.any(Object) });
		}
	});
});

describe('server log', () => {
	it('answered no request with a 500 and logged no error', () => {
		expectNoServerErrors(server.output());
	});
});
