/** Webhooks over HTTP against the built app: the secret once, owner scoping, validation, the test ping and the OpenAPI document. */
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreatedWebhookJson, WebhookJson, WebhookList, WebhookTestJson } from '../../src/lib/schemas/webhooks';
import { webhooks } from '../../src/lib/server/db/schema';
import { MAX_WEBHOOKS_PER_USER } from '../../src/lib/server/webhooks/service';
import { startAppServer, type AppServer } from '../support/app-server';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { ApiClient, expectError, fieldsOf, parseBody, registerViaApi, type ApiResponse, type RegisteredUser } from '../support/http';

const UNKNOWN_ID = '7d0f1e52-5a3b-4c1e-9a51-2b2f7a0c9d11';

let t: TestDatabase;
let server: AppServer;
let api: ApiClient;
let alice: RegisteredUser;
let bob: RegisteredUser;
const responses: ApiResponse[] = [];
const keep = (res: ApiResponse) => (responses.push(res), res);

beforeAll(async () => {
	t = await createTestDatabase();
	server = await startAppServer(t.url);
	api = new ApiClient(server.url);
	alice = await registerViaApi(api);
	bob = await registerViaApi(api);
});
afterAll(async () => {
	await server?.stop();
	await t?.destroy();
});

describe('/api/v1/webhooks', () => {
	let secret = '';
	let id = '';

	it('creates a webhook (201) with its secret, once: GET, list and PATCH never show it', async () => {
		const as = api.as(alice.token);
		const created = keep(await as.post('/api/v1/webhooks', { url: 'https://hooks.example.com/pixsim7' }));
		expect(created.status, created.text).toBe(201);
		const body = parseBody(CreatedWebhookJson.strict(), created);
		expect(body).toMatchObject({ url: 'https://hooks.example.com/pixsim7', active: true, last_delivery_at: null, last_delivery_status: null, last_delivery_error: null });
		expect(body.secret).toMatch(/^whsec_/);
		({ secret, id } = body);

		const one = parseBody(WebhookJson.strict(), keep(await as.get(`/api/v1/webhooks/${id}`)));
		expect(one.id).toBe(id);
		const list = parseBody(WebhookList, keep(await as.get('/api/v1/webhooks')));
		expect(list.items.map((w) => w.id)).toEqual([id]);
		const patched = keep(await as.patch(`/api/v1/webhooks/${id}`, { active: false }));
		expect(parseBody(WebhookJson.strict(), patched)).toMatchObject({ id, active: false });
		const moved = keep(await as.patch(`/api/v1/webhooks/${id}`, { url: 'http://10.0.0.5:8080/in', active: true }));
		expect(parseBody(WebhookJson, moved)).toMatchObject({ url: 'http://10.0.0.5:8080/in', active: true });

		const [row] = await t.db.select().from(webhooks).where(eq(webhooks.id, id));
		expect(row.secretEncrypted).not.toContain(secret.slice(6));
	});

	it('answers 400 with field messages for bad input', async () => {
		const as = api.as(alice.token);
		for (const url of ['ftp://example.com/x', 'not a url', '', 'javascript:alert(1)']) {
			const err = expectError(keep(await as.post('/api/v1/webhooks', { url })), 'validation_error');
			expect(Object.keys(fieldsOf(err)), url).toEqual(['url']);
		}
		expect(fieldsOf(expectError(keep(await as.post('/api/v1/webhooks', {})), 'validation_error'))).toHaveProperty('url');
		expectError(keep(await as.request('POST', '/api/v1/webhooks', { rawBody: '{nope', headers: { 'content-type': 'application/json' } })), 'validation_error');
		expect(fieldsOf(expectError(keep(await as.patch(`/api/v1/webhooks/${id}`, { active: 'yes' })), 'validation_error'))).toHaveProperty('active');
		expect(fieldsOf(expectError(keep(await as.patch(`/api/v1/webhooks/${id}`, { url: 'gopher://x' })), 'validation_error'))).toHaveProperty('url');
	});

	it("answers 404 for another user's webhook, an unknown id and a malformed one; 401 without a token", async () => {
		const asBob = api.as(bob.token);
		expectError(keep(await asBob.get(`/api/v1/webhooks/${id}`)), 'not_found');
		expectError(keep(await asBob.patch(`/api/v1/webhooks/${id}`, { active: false })), 'not_found');
		expectError(keep(await asBob.delete(`/api/v1/webhooks/${id}`)), 'not_found');
		expectError(keep(await asBob.post(`/api/v1/webhooks/${id}/test`)), 'not_found');
		expect(parseBody(WebhookList, keep(await asBob.get('/api/v1/webhooks'))).items).toEqual([]);
		expectError(keep(await api.as(alice.token).get(`/api/v1/webhooks/${UNKNOWN_ID}`)), 'not_found');
		expectError(keep(await api.as(alice.token).get('/api/v1/webhooks/not-an-id')), 'not_found');
		expectError(keep(await api.as(null).get('/api/v1/webhooks')), 'unauthorized');
		expectError(keep(await api.as(null).post('/api/v1/webhooks', { url: 'https://example.com' })), 'unauthorized');
		// Still alice's, unchanged.
		expect(parseBody(WebhookJson, keep(await api.as(alice.token).get(`/api/v1/webhooks/${id}`))).active).toBe(true);
	});

	it('queues a signed ping delivery (202) for the test endpoint', async () => {
		const res = keep(await api.as(alice.token).post(`/api/v1/webhooks/${id}/test`));
		expect(res.status, res.text).toBe(202);
		const { delivery_id } = parseBody(WebhookTestJson, res);
		const jobs = await t.db.execute<{ data: { webhook_id: string; delivery_id: string; event: { type: string } } }>(
			sql`select data from pgboss.job where name = 'webhooks.deliver'`
		);
		expect(jobs.map((j) => j.data)).toEqual([expect.objectContaining({ webhook_id: id, delivery_id, event: expect.objectContaining({ type: 'ping' }) })]);
		// The queued payload carries no secret either.
		expect(JSON.stringify(jobs)).not.toContain(secret.slice(6));
	});

	it(`refuses more than ${MAX_WEBHOOKS_PER_USER} webhooks (429 quota_exceeded), then deletes (204)`, async () => {
		const as = api.as(bob.token);
		for (let i = 0; i < MAX_WEBHOOKS_PER_USER; i++) expect((await as.post('/api/v1/webhooks', { url: `https://example.com/${i}` })).status).toBe(201);
		const over = keep(await as.post('/api/v1/webhooks', { url: 'https://example.com/over' }));
		expect(over.status).toBe(429);
		expect(over.body).toMatchObject({ error: { code: 'quota_exceeded', details: { quota: 'webhooks', limit: MAX_WEBHOOKS_PER_USER } } });

		const del = keep(await api.as(alice.token).delete(`/api/v1/webhooks/${id}`));
		expect(del.status).toBe(204);
		expectError(keep(await api.as(alice.token).get(`/api/v1/webhooks/${id}`)), 'not_found');
	});

	it('is in the OpenAPI document', async () => {
		const doc = (await api.get('/api/v1/openapi.json')).body as {
			paths: Record<string, Record<string, { responses: Record<string, unknown>; requestBody?: { content: Record<string, { schema: { $ref?: string } }> } }>>;
		};
		expect(Object.keys(doc.paths['/api/v1/webhooks']).sort()).toEqual(['get', 'post']);
		expect(Object.keys(doc.paths['/api/v1/webhooks/{id}']).sort()).toEqual(['delete', 'get', 'patch']);
		expect(Object.keys(doc.paths['/api/v1/webhooks/{id}/test'])).toEqual(['post']);
		expect(Object.keys(doc.paths['/api/v1/webhooks'].post.responses)).toEqual(expect.arrayContaining(['201', '400', '401', '429']));
		expect(doc.paths['/api/v1/webhooks'].post.requestBody?.content['application/json'].schema.$ref).toBe('#/components/schemas/CreateWebhookRequest');
		expect(doc.paths['/api/v1/webhooks/{id}'].patch.requestBody?.content['application/json'].schema.$ref).toBe('#/components/schemas/UpdateWebhookRequest');
		expect(Object.keys(doc.paths['/api/v1/webhooks/{id}/test'].post.responses)).toEqual(expect.arrayContaining(['202', '401', '404']));
	});

	it('never answered a secret except at creation', () => {
		const withSecret = responses.filter((r) => r.text.includes(secret.slice(6)));
		expect(withSecret).toHaveLength(1);
		expect(withSecret[0].status).toBe(201);
	});
});
