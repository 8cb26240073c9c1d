/** Provider accounts over HTTP against the built app: authorization, validation, and secrets that never come back. */
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AccountJson, AccountList } from '../../src/lib/schemas/accounts';
import { providerAccounts } from '../../src/lib/server/db/schema';
import { startAppServer, type AppServer } from '../support/app-server';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { ApiClient, expectError, fieldsOf, parseBody, registerViaApi, type ApiResponse, type RegisteredUser } from '../support/http';

const UNKNOWN_ID = '7d0f1e52-5a3b-4c1e-9a51-2b2f7a0c9d11';
const SECRET = 'sk-live-SUPERSECRET-0000wxyz';

let t: TestDatabase;
let server: AppServer;
let api: ApiClient;
let admin: RegisteredUser;
const responses: ApiResponse[] = [];

/** Every response this suite sees is kept, to check afterwards that no secret was in any. */
function keep(res: ApiResponse): ApiResponse {
	responses.push(res);
	return res;
}

beforeAll(async () => {
	t = await createTestDatabase();
	server = await startAppServer(t.url);
	api = new ApiClient(server.url);
	admin = await registerViaApi(api); // the first user is the admin
});
afterAll(async () => {
	await server?.stop();
	await t?.destroy();
});

describe('/api/v1/accounts', () => {
	it('an admin adds a shared account (201) that users see without secrets and cannot change (403)', async () => {
		const as = api.as(admin.token);
		const created = keep(
			await as.post('/api/v1/accounts', {
				provider_id: 'pixverse',
				label: 'Team key',
				shared: true,
				credentials: { api_key: SECRET },
				priority: 5,
				max_concurrent_jobs: 3,
				credits: { default: 1000 }
			})
		);
		expect(created.status, created.text).toBe(201);
		const shared = parseBody(AccountJson.strict(), created);
		expect(shared).toMatchObject({
			provider_id: 'pixverse',
			label: 'Team key',
			owner_id: null,
			shared: true,
			can_manage: true,
			has_credentials: true,
			credential_names: ['api_key'],
			credentials_hint: 'wxyz',
			priority: 5,
			status: 'active',
			credits: { default: 1000 },
			max_concurrent_jobs: 3,
			current_jobs: 0,
			success_rate: null
		});
		// Stored encrypted.
		const [row] = await t.db.select().from(providerAccounts).where(eq(providerAccounts.id, shared.id));
		expect(row.credentialsEncrypted).not.toContain('SUPERSECRET');

		const user = await registerViaApi(api);
		const asUser = api.as(user.token);
		const seen = parseBody(AccountJson, keep(await asUser.get(`/api/v1/accounts/${shared.id}`)));
		expect(seen).toMatchObject({ can_manage: false, credentials_hint: null, has_credentials: true });
		expectError(keep(await asUser.patch(`/api/v1/accounts/${shared.id}`, { status: 'disabled' })), 'forbidden');
		expectError(keep(await asUser.delete(`/api/v1/accounts/${shared.id}`)), 'forbidden');
		expectError(keep(await asUser.post('/api/v1/accounts', { provider_id: 'pixverse', label: 'x', shared: true, credentials: { api_key: 'k' } })), 'forbidden');
	});

	it('a user adds, lists, reads, changes and deletes a private account; others get 404', async () => {
		const alice = await registerViaApi(api);
		const bob = await registerViaApi(api);
		const asAlice = api.as(alice.token);
		const created = keep(await asAlice.post('/api/v1/accounts', { provider_id: 'pixverse', label: ' Mine ', credentials: { api_key: SECRET } }));
		expect(created.status, created.text).toBe(201);
		const mine = parseBody(AccountJson, created);
		expect(mine).toMatchObject({ label: 'Mine', owner_id: alice.id, shared: false, max_concurrent_jobs: 1, priority: 0, credits: null });

		const list = parseBody(AccountList, keep(await asAlice.get('/api/v1/accounts')));
		expect(list.items.map((a) => a.id)).toContain(mine.id);
		expect(list.items.every((a) => a.shared || a.owner_id === alice.id)).toBe(true);
		// The web process made the local renderer's shared account at start.
		const local = parseBody(AccountList, keep(await asAlice.get('/api/v1/accounts?provider_id=local')));
		expect(local.items).toHaveLength(1);
		expect(local.items[0]).toMatchObject({ provider_id: 'local', label: 'Local renderer', shared: true, can_manage: false, has_credentials: false });

		const patched = keep(
			await asAlice.patch(`/api/v1/accounts/${mine.id}`, {
				status: 'disabled',
				credits: { default: 40 },
				max_concurrent_jobs: 2,
				credentials: { api_key: `${SECRET}-rotated-abcd` }
			})
		);
		expect(patched.status, patched.text).toBe(200);
		expect(parseBody(AccountJson, patched)).toMatchObject({ status: 'disabled', credits: { default: 40 }, max_concurrent_jobs: 2, credentials_hint: 'abcd' });
		expect(parseBody(AccountJson, keep(await asAlice.patch(`/api/v1/accounts/${mine.id}`, { status: 'active' }))).status).toBe('active');

		const asBob = api.as(bob.token);
		expectError(keep(await asBob.get(`/api/v1/accounts/${mine.id}`)), 'not_found');
		expectError(keep(await asBob.patch(`/api/v1/accounts/${mine.id}`, { label: 'x' })), 'not_found');
		expectError(keep(await asBob.delete(`/api/v1/accounts/${mine.id}`)), 'not_found');
		expect(parseBody(AccountList, keep(await asBob.get('/api/v1/accounts'))).items.map((a) => a.id)).not.toContain(mine.id);
		// The admin sees it.
		expect(keep(await api.as(admin.token).get(`/api/v1/accounts/${mine.id}`)).status).toBe(200);

		const deleted = keep(await asAlice.delete(`/api/v1/accounts/${mine.id}`));
		expect(deleted.status).toBe(204);
		expectError(keep(await asAlice.get(`/api/v1/accounts/${mine.id}`)), 'not_found');
		expectError(keep(await asAlice.get(`/api/v1/accounts/${UNKNOWN_ID}`)), 'not_found');
		expectError(keep(await asAlice.get('/api/v1/accounts/not-a-uuid')), 'not_found');
	});

	it('refuses to delete an account that runs jobs (409)', async () => {
		const as = api.as(admin.token);
		const account = parseBody(AccountJson, keep(await as.post('/api/v1/accounts', { provider_id: 'pixverse', label: 'Busy', credentials: { api_key: 'k' } })));
		await t.db.update(providerAccounts).set({ currentJobs: 1 }).where(eq(providerAccounts.id, account.id));
		const refused = expectError(keep(await as.delete(`/api/v1/accounts/${account.id}`)), 'conflict');
		expect(refused.message).toMatch(/running 1 job/);
	});

	it('answers 400 with field details for bad input', async () => {
		const as = api.as(admin.token);
		const bad = expectError(
			keep(
				await as.post('/api/v1/accounts', {
					provider_id: 'pixverse',
					label: '',
					credentials: { 'API KEY': 42 },
					max_concurrent_jobs: 0,
					priority: 1.5,
					credits: { default: -1 }
				})
			),
			'validation_error'
		);
		expect(Object.keys(fieldsOf(bad)).sort()).toEqual(
			expect.arrayContaining(['label', 'max_concurrent_jobs', 'priority'])
		);
		expect(Object.keys(fieldsOf(bad)).some((k) => k.startsWith('credentials'))).toBe(true);
		expect(Object.keys(fieldsOf(bad)).some((k) => k.startsWith('credits'))).toBe(true);

		const unknown = expectError(keep(await as.post('/api/v1/accounts', { provider_id: 'nope', label: 'x', credentials: { api_key: 'k' } })), 'validation_error');
		expect(fieldsOf(unknown).provider_id[0]).toMatch(/No provider "nope"/);
		const missing = expectError(keep(await as.post('/api/v1/accounts', { provider_id: 'pixverse', label: 'x', credentials: {} })), 'validation_error');
		expect(fieldsOf(missing)).toHaveProperty('credentials');
		expectError(keep(await as.post('/api/v1/accounts', { provider_id: 'pixverse', label: 'x' })), 'validation_error');

		const account = parseBody(AccountJson, keep(await as.post('/api/v1/accounts', { provider_id: 'pixverse', label: 'ok', credentials: { api_key: 'k' } })));
		const badPatch = expectError(keep(await as.patch(`/api/v1/accounts/${account.id}`, { status: 'cooldown' })), 'validation_error');
		expect(fieldsOf(badPatch)).toHaveProperty('status');
		expectError(keep(await as.patch(`/api/v1/accounts/${account.id}`, undefined, { rawBody: '{nope', headers: { 'content-type': 'application/json' } })), 'validation_error');
	});

	it('answers 429 quota_exceeded past the private account quota', async () => {
		const user = await registerViaApi(api);
		const as = api.as(admin.token);
		expect((await as.patch(`/api/v1/users/${user.id}`, { quotas: { provider_accounts: 1 } })).status).toBe(200);
		const asUser = api.as(user.token);
		expect(keep(await asUser.post('/api/v1/accounts', { provider_id: 'pixverse', label: 'one', credentials: { api_key: 'k' } })).status).toBe(201);
		const over = keep(await asUser.post('/api/v1/accounts', { provider_id: 'pixverse', label: 'two', credentials: { api_key: 'k' } }));
		expect(over.status).toBe(429);
		expect(over.body).toMatchObject({ error: { code: 'quota_exceeded', details: { quota: 'provider_accounts', limit: 1 } } });
	});

	it('requires sign-in', async () => {
		expectError(await api.get('/api/v1/accounts'), 'unauthorized');
		expectError(await api.post('/api/v1/accounts', {}), 'unauthorized');
	});

	it('never returns a credential or writes one to the log', () => {
		expect(responses.length).toBeGreaterThan(20);
		for (const res of responses) expect(res.text).not.toContain('SUPERSECRET');
		expect(server.output()).not.toContain('SUPERSECRET');
	});
});
