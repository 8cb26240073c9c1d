/** Workspaces over HTTP against the built app. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WorkspaceJson, WorkspaceList } from '../../src/lib/schemas/workspaces';
import { AssetDetailJson } from '../../src/lib/schemas/assets';
import { makeAsset } from '../support/asset-rows';
import { startAppServer, type AppServer } from '../support/app-server';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { ApiClient, expectError, fieldsOf, parseBody, registerViaApi } from '../support/http';

const UNKNOWN_ID = '7d0f1e52-5a3b-4c1e-9a51-2b2f7a0c9d11';

let t: TestDatabase;
let server: AppServer;
let api: ApiClient;

beforeAll(async () => {
	t = await createTestDatabase();
	server = await startAppServer(t.url);
	api = new ApiClient(server.url);
	await registerViaApi(api); // the admin
});
afterAll(async () => {
	await server?.stop();
	await t?.destroy();
});

describe('/api/v1/workspaces', () => {
	it('creates (201), lists by name, reads, renames and deletes (204)', async () => {
		const user = await registerViaApi(api);
		const as = api.as(user.token);
		const created = await as.post('/api/v1/workspaces', { name: ' Trips ', description: 'Summer' });
		expect(created.status, created.text).toBe(201);
		const trips = parseBody(WorkspaceJson.strict(), created);
		expect(trips).toMatchObject({ name: 'Trips', description: 'Summer' });
		const alpha = parseBody(WorkspaceJson, await as.post('/api/v1/workspaces', { name: 'alpha' }));
		expect(alpha.description).toBe('');

		const list = parseBody(WorkspaceList, await as.get('/api/v1/workspaces'));
		expect(list.items.map((w) => w.name)).toEqual(['alpha', 'Trips']);
		expect(parseBody(WorkspaceJson, await as.get(`/api/v1/workspaces/${trips.id}`)).name).toBe('Trips');

		const patched = await as.patch(`/api/v1/workspaces/${trips.id}`, { description: 'Autumn' });
		expect(patched.status).toBe(200);
		expect(parseBody(WorkspaceJson, patched)).toMatchObject({ name: 'Trips', description: 'Autumn' });

		const deleted = await as.delete(`/api/v1/workspaces/${trips.id}`);
		expect(deleted.status).toBe(204);
		expect(deleted.text).toBe('');
		expectError(await as.get(`/api/v1/workspaces/${trips.id}`), 'not_found');
	});

	it('answers 409 for a duplicate name (ignoring case) on create and rename', async () => {
		const user = await registerViaApi(api);
		const as = api.as(user.token);
		await as.post('/api/v1/workspaces', { name: 'Trips' });
		const err = expectError(await as.post('/api/v1/workspaces', { name: 'TRIPS' }), 'conflict');
		expect(fieldsOf(err).name).toBeDefined();
		const other = parseBody(WorkspaceJson, await as.post('/api/v1/workspaces', { name: 'Other' }));
		expectError(await as.patch(`/api/v1/workspaces/${other.id}`, { name: 'trips' }), 'conflict');
	});

	it('answers 400 for a missing, blank or too long name and a bad body', async () => {
		const user = await registerViaApi(api);
		const as = api.as(user.token);
		expect(fieldsOf(expectError(await as.post('/api/v1/workspaces', {}), 'validation_error')).name).toBeDefined();
		expectError(await as.post('/api/v1/workspaces', { name: '   ' }), 'validation_error');
		expectError(await as.post('/api/v1/workspaces', { name: 'x'.repeat(101) }), 'validation_error');
		expectError(await as.post('/api/v1/workspaces', { name: 'ok', description: 5 }), 'validation_error');
		expectError(await as.request('POST', '/api/v1/workspaces', { rawBody: '{nope', headers: { 'content-type': 'application/json' } }), 'validation_error');
	});

	it('answers 401 without a token', async () => {
		expectError(await api.get('/api/v1/workspaces'), 'unauthorized');
		expectError(await api.post('/api/v1/workspaces', { name: 'x' }), 'unauthorized');
		expectError(await api.get(`/api/v1/workspaces/${UNKNOWN_ID}`), 'unauthorized');
		expectError(await api.delete(`/api/v1/workspaces/${UNKNOWN_ID}`), 'unauthorized');
	});

	it('answers 404 for another user’s workspace, an unknown id and a malformed id, and leaves it alone', async () => {
		const owner = await registerViaApi(api);
		const mallory = await registerViaApi(api);
		const w = parseBody(WorkspaceJson, await api.as(owner.token).post('/api/v1/workspaces', { name: 'Private' }));
		const as = api.as(mallory.token);
		expectError(await as.get(`/api/v1/workspaces/${w.id}`), 'not_found');
		expectError(await as.patch(`/api/v1/workspaces/${w.id}`, { name: 'Mine' }), 'not_found');
		expectError(await as.delete(`/api/v1/workspaces/${w.id}`), 'not_found');
		expectError(await as.get(`/api/v1/workspaces/${UNKNOWN_ID}`), 'not_found');
		expectError(await as.get('/api/v1/workspaces/12345'), 'not_found');
		expect(parseBody(WorkspaceList, await as.get('/api/v1/workspaces')).items).toEqual([]);
		expect(parseBody(WorkspaceJson, await api.as(owner.token).get(`/api/v1/workspaces/${w.id}`)).name).toBe('Private');
	});

	it('deleting a workspace leaves its assets, with workspace_id null', async () => {
		const user = await registerViaApi(api);
		const as = api.as(user.token);
		const w = parseBody(WorkspaceJson, await as.post('/api/v1/workspaces', { name: 'Doomed' }));
		const asset = await makeAsset(t.db, user.id, { workspaceId: w.id });
		expect((await as.delete(`/api/v1/workspaces/${w.id}`)).status).toBe(204);
		const res = await as.get(`/api/v1/assets/${asset.id}`);
		expect(res.status).toBe(200);
		expect(parseBody(AssetDetailJson, res).workspace_id).toBeNull();
	});
});
