/** A user's own account and the admin's user management, over HTTP against the built app. */
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreatedApiToken } from '../../src/lib/schemas/auth';
import { AdminUserJson, MeResponse, UserList } from '../../src/lib/schemas/users';
import { dailyUsage, sessions } from '../../src/lib/server/db/schema';
import { utcDay } from '../../src/lib/server/users/quotas';
import { startAppServer, type AppServer } from '../support/app-server';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { ApiClient, expectError, fieldsOf, loginViaApi, parseBody, registerViaApi, uniqueName, type RegisteredUser } from '../support/http';
import { expectNoServerErrors } from '../support/logs';

const QUOTAS = { jobs_per_day: 42, storage_bytes: 5_000_000, provider_accounts: 3 };

let t: TestDatabase;
let server: AppServer;
let api: ApiClient;
let admin: RegisteredUser;

beforeAll(async () => {
	t = await createTestDatabase();
	server = await startAppServer(t.url, {
		QUOTA_JOBS_PER_DAY: String(QUOTAS.jobs_per_day),
		QUOTA_STORAGE_BYTES: String(QUOTAS.storage_bytes),
		QUOTA_PROVIDER_ACCOUNTS: String(QUOTAS.provider_accounts)
	});
	api = new ApiClient(server.url);
	admin = await registerViaApi(api, { username: uniqueName('admin') });
	expect(admin.role).toBe('admin');
});
afterAll(async () => {
	await server?.stop();
	await t?.destroy();
});

async function me(token: string) {
	const res = await api.get('/api/v1/users/me', { token });
	expect(res.status).toBe(200);
	return parseBody(MeResponse, res);
}

describe('GET /api/v1/users/me', () => {
	it('answers the user with the default quotas and today’s (empty) usage', async () => {
		const user = await registerViaApi(api);
		const body = await me(user.token);
		expect(body).toMatchObject({ id: user.id, email: user.email, username: user.username, role: 'user', is_active: true });
		expect(body.quotas).toEqual(QUOTAS);
		expect(body.usage).toEqual({ day: utcDay(), jobs_created: 0, assets_created: 0, bytes_added: 0, storage_bytes_used: 0 });
	});

	it('reflects what the user created today', async () => {
		const user = await registerViaApi(api);
		await t.db.insert(dailyUsage).values({ userId: user.id, day: utcDay(), jobsCreated: 4, assetsCreated: 2, bytesAdded: 2048 });
		await t.db.insert(dailyUsage).values({ userId: user.id, day: '2020-01-01', jobsCreated: 99 });
		expect((await me(user.token)).usage).toMatchObject({ day: utcDay(), jobs_created: 4, assets_created: 2, bytes_added: 2048 });
		// The same through a personal API token (its lookup reads the usage on its own path).
		const created = parseBody(CreatedApiToken, await api.post('/api/v1/auth/tokens', { name: 'usage' }, { token: user.token }));
		expect((await me(created.token)).usage).toMatchObject({ jobs_created: 4, assets_created: 2, bytes_added: 2048 });
	});
});

describe('PATCH /api/v1/users/me', () => {
	it('changes the username', async () => {
		const user = await registerViaApi(api);
		const username = uniqueName('renamed');
		const res = await api.patch('/api/v1/users/me', { username }, { token: user.token });
		expect(res.status).toBe(200);
		expect(parseBody(MeResponse, res)).toMatchObject({ id: user.id, username, quotas: QUOTAS });
		expect((await me(user.token)).username).toBe(username);
	});

	it('answers 409 for a username another user has, whatever its case, and 400 for an invalid one', async () => {
		const user = await registerViaApi(api);
		const other = await registerViaApi(api);
		const conflict = expectError(await api.patch('/api/v1/users/me', { username: other.username.toUpperCase() }, { token: user.token }), 'conflict');
		expect(Object.keys(fieldsOf(conflict))).toEqual(['username']);
		const invalid = expectError(await api.patch('/api/v1/users/me', { username: 'no spaces!' }, { token: user.token }), 'validation_error');
		expect(Object.keys(fieldsOf(invalid))).toEqual(['username']);
		expect((await me(user.token)).username).toBe(user.username);
	});

	it('requires the current password to set a new one', async () => {
		const user = await registerViaApi(api);
		const missing = expectError(await api.patch('/api/v1/users/me', { new_password: 'brand new password' }, { token: user.token }), 'validation_error');
		expect(Object.keys(fieldsOf(missing))).toEqual(['current_password']);
		const wrong = expectError(
			await api.patch('/api/v1/users/me', { current_password: 'not my password', new_password: 'brand new password' }, { token: user.token }),
			'validation_error'
		);
		expect(Object.keys(fieldsOf(wrong))).toEqual(['current_password']);
		const short = expectError(
			await api.patch('/api/v1/users/me', { current_password: user.password, new_password: 'short' }, { token: user.token }),
			'validation_error'
		);
		expect(Object.keys(fieldsOf(short))).toEqual(['new_password']);
		// Nothing changed: the old password still signs in.
		await loginViaApi(api, user);
	});

	it('changes the password, ending every other session but not this one', async () => {
		const user = await registerViaApi(api);
		const other = await loginViaApi(api, user);
		const res = await api.patch('/api/v1/users/me', { current_password: user.password, new_password: 'a whole new secret' }, { token: user.token });
		expect(res.status).toBe(200);

		expect((await api.get('/api/v1/users/me', { token: user.token })).status).toBe(200);
		expectError(await api.get('/api/v1/users/me', { token: other }), 'unauthorized');
		expectError(await api.post('/api/v1/auth/login', { email: user.email, password: user.password }), 'unauthorized');
		await loginViaApi(api, { email: user.email, password: 'a whole new secret' });
	});
});

describe('GET /api/v1/users (admin)', () => {
	let tag: string;
	let tagged: RegisteredUser[];
	beforeAll(async () => {
		tag = uniqueName('page');
		tagged = [];
		for (let i = 0; i < 5; i++) tagged.push(await registerViaApi(api, { username: `${tag}_${i}` }));
	});

	it('pages through users newest first with page, per_page and total', async () => {
		const first = parseBody(UserList, await api.get(`/api/v1/users?q=${tag}&per_page=2`, { token: admin.token }));
		expect(first).toMatchObject({ page: 1, per_page: 2, total: 5 });
		expect(first.items.map((u) => u.username)).toEqual([`${tag}_4`, `${tag}_3`]);
		const last = parseBody(UserList, await api.get(`/api/v1/users?q=${tag}&per_page=2&page=3`, { token: admin.token }));
		expect(last.items.map((u) => u.username)).toEqual([`${tag}_0`]);
		const beyond = parseBody(UserList, await api.get(`/api/v1/users?q=${tag}&per_page=2&page=4`, { token: admin.token }));
		expect(beyond).toMatchObject({ items: [], total: 5, page: 4 });

		const all = parseBody(UserList, await api.get('/api/v1/users', { token: admin.token }));
		expect(all.page).toBe(1);
		expect(all.per_page).toBe(25);
		expect(all.total).toBeGreaterThanOrEqual(6);
		expect(all.items[0]).toMatchObject({ quotas: QUOTAS, quota_overrides: { jobs_per_day: null, storage_bytes: null, provider_accounts: null } });
		expect(JSON.stringify(all)).not.toMatch(/password/i);
	});

	it('searches email and username case-insensitively with q', async () => {
		const target = tagged[2];
		const byUsername = parseBody(UserList, await api.get(`/api/v1/users?q=${target.username.toUpperCase()}`, { token: admin.token }));
		expect(byUsername.items.map((u) => u.id)).toEqual([target.id]);
		const byEmail = parseBody(UserList, await api.get(`/api/v1/users?q=${encodeURIComponent(target.email)}`, { token: admin.token }));
		expect(byEmail.items.map((u) => u.id)).toEqual([target.id]);
		// LIKE wildcards in q are taken literally.
		const wildcard = parseBody(UserList, await api.get('/api/v1/users?q=%25', { token: admin.token }));
		expect(wildcard).toMatchObject({ items: [], total: 0 });
	});

	it('answers 400 for invalid paging', async () => {
		for (const query of ['page=0', 'per_page=0', 'per_page=101', 'page=abc']) {
			const error = expectError(await api.get(`/api/v1/users?${query}`, { token: admin.token }), 'validation_error');
			expect(Object.keys(fieldsOf(error))).toEqual([query.split('=')[0]]);
		}
	});

	it('answers 403 to a user who is not an admin', async () => {
		expectError(await api.get('/api/v1/users', { token: tagged[0].token }), 'forbidden');
	});
});

describe('PATCH /api/v1/users/{id} (admin)', () => {
	async function patchUser(id: string, body: unknown, token = admin.token) {
		return api.patch(`/api/v1/users/${id}`, body, { token });
	}

	it('sets quota overrides, and null returns a quota to the default', async () => {
		const user = await registerViaApi(api);
		const set = await patchUser(user.id, { quotas: { jobs_per_day: 5, storage_bytes: 0 } });
		expect(set.status).toBe(200);
		expect(parseBody(AdminUserJson, set)).toMatchObject({
			id: user.id,
			quotas: { jobs_per_day: 5, storage_bytes: 0, provider_accounts: QUOTAS.provider_accounts },
			quota_overrides: { jobs_per_day: 5, storage_bytes: 0, provider_accounts: null }
		});
		expect((await me(user.token)).quotas).toEqual({ ...QUOTAS, jobs_per_day: 5, storage_bytes: 0 });

		const reset = parseBody(AdminUserJson, await patchUser(user.id, { quotas: { jobs_per_day: null } }));
		expect(reset.quota_overrides).toEqual({ jobs_per_day: null, storage_bytes: 0, provider_accounts: null });
		expect((await me(user.token)).quotas).toEqual({ ...QUOTAS, storage_bytes: 0 });
	});

	it('promotes a user to admin, who can then manage users', async () => {
		const user = await registerViaApi(api);
		expectError(await api.get('/api/v1/users', { token: user.token }), 'forbidden');
		expect(parseBody(AdminUserJson, await patchUser(user.id, { role: 'admin' })).role).toBe('admin');
		expect((await api.get('/api/v1/users', { token: user.token })).status).toBe(200);
		expect(parseBody(AdminUserJson, await patchUser(user.id, { role: 'user' })).role).toBe('user');
		expectError(await api.get('/api/v1/users', { token: user.token }), 'forbidden');
	});

	it('deactivating a user ends their sessions and API tokens at once', async () => {
		const user = await registerViaApi(api);
		const other = await loginViaApi(api, user);
		const apiToken = parseBody(CreatedApiToken, await api.post('/api/v1/auth/tokens', { name: 'cron' }, { token: user.token })).token;

		expect(parseBody(AdminUserJson, await patchUser(user.id, { is_active: false })).is_active).toBe(false);
		for (const token of [user.token, other, apiToken]) expectError(await api.get('/api/v1/users/me', { token }), 'unauthorized');
		expect(await t.db.select().from(sessions).where(eq(sessions.userId, user.id))).toEqual([]);

		// Reactivated: the old sessions stay ended; signing in works again, and so does the API token.
		await patchUser(user.id, { is_active: true });
		expectError(await api.get('/api/v1/users/me', { token: user.token }), 'unauthorized');
		await loginViaApi(api, user);
		expect((await api.get('/api/v1/users/me', { token: apiToken })).status).toBe(200);
	});

	it('answers 403 to a user who is not an admin, and changes nothing', async () => {
		const user = await registerViaApi(api);
		const victim = await registerViaApi(api);
		expectError(await patchUser(victim.id, { is_active: false }, user.token), 'forbidden');
		expectError(await patchUser(user.id, { role: 'admin' }, user.token), 'forbidden');
		expect((await me(victim.token)).is_active).toBe(true);
		expect((await me(user.token)).role).toBe('user');
	});

	it('answers 404 for an unknown id and 400 for an invalid body', async () => {
		expectError(await patchUser('5b0c3f0e-8a3d-4f55-9f0e-6f8b0e2d1c7a', { role: 'user' }), 'not_found');
		const user = await registerViaApi(api);
		const role = expectError(await patchUser(user.id, { role: 'superuser' }), 'validation_error');
		expect(Object.keys(fieldsOf(role))).toEqual(['role']);
		const quota = expectError(await patchUser(user.id, { quotas: { jobs_per_day: -1, storage_bytes: 1.5 } }), 'validation_error');
		expect(Object.keys(fieldsOf(quota)).sort()).toEqual(['quotas.jobs_per_day', 'quotas.storage_bytes']);
	});

	it('refuses (409) to demote or deactivate the last active admin', async () => {
		// The first user is this suite's only admin now.
		const conflict = expectError(await patchUser(admin.id, { role: 'user' }), 'conflict');
		expect(conflict.message).toMatch(/admin/i);
		expectError(await patchUser(admin.id, { is_active: false }), 'conflict');
		expect((await me(admin.token)).role).toBe('admin');

		// With a second admin, one of them may step down, and then the other may not.
		const deputy = await registerViaApi(api);
		await patchUser(deputy.id, { role: 'admin' });
		expect(parseBody(AdminUserJson, await patchUser(deputy.id, { role: 'user' }, deputy.token)).role).toBe('user');
		expectError(await patchUser(admin.id, { role: 'user' }), 'conflict');
		// Changing other things on the last admin is fine.
		expect((await patchUser(admin.id, { role: 'admin', is_active: true, quotas: { jobs_per_day: 1000 } })).status).toBe(200);
	});
});

describe('server log', () => {
	it('answered no request with a 500 and logged no error', () => {
		expectNoServerErrors(server.output());
	});
});
