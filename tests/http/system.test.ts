/**
 * What every endpoint shares, over HTTP against the built app: health, the OpenAPI document and
 * its reference page, the error envelope, the cross-site form check, and the structured log.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { CreatedApiToken } from '../../src/lib/schemas/auth';
import { startAppServer, type AppServer } from '../support/app-server';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { ApiClient, expectError, fieldsOf, loginViaApi, parseBody, registerViaApi, uniqueName, type RegisteredUser } from '../support/http';
import { expectNoServerErrors, parseLog, waitForLog } from '../support/logs';

let t: TestDatabase;
let server: AppServer;
let api: ApiClient;
let member: RegisteredUser;

beforeAll(async () => {
	t = await createTestDatabase();
	server = await startAppServer(t.url);
	api = new ApiClient(server.url);
	member = await registerViaApi(api);
});
afterAll(async () => {
	await server?.stop();
	await t?.destroy();
});

describe('GET /health', () => {
	it('answers 200 healthy with the database and the queue reachable', async () => {
		const res = await api.get('/health');
		expect(res.status).toBe(200);
		expect(res.body).toEqual({ status: 'healthy', providers: expect.arrayContaining([expect.objectContaining({ id: 'local' })]), database: 'ok', queue: 'ok' });
		expect(res.headers.get('cache-control')).toBe('no-store');
	});
});

/** Every authenticated operation of the contract, with a body that would otherwise be valid. */
const authenticated: { method: string; path: string; json?: unknown }[] = [
	{ method: 'POST', path: '/api/v1/auth/logout' },
	{ method: 'GET', path: '/api/v1/auth/sessions' },
	{ method: 'DELETE', path: '/api/v1/auth/sessions/00000000-0000-4000-8000-000000000000' },
	{ method: 'POST', path: '/api/v1/auth/sessions/revoke-others' },
	{ method: 'GET', path: '/api/v1/auth/tokens' },
	{ method: 'POST', path: '/api/v1/auth/tokens', json: { name: 'script' } },
	{ method: 'DELETE', path: '/api/v1/auth/tokens/00000000-0000-4000-8000-000000000000' },
	{ method: 'GET', path: '/api/v1/users/me' },
	{ method: 'PATCH', path: '/api/v1/users/me', json: { username: 'someone_new' } },
	{ method: 'GET', path: '/api/v1/users' },
	{ method: 'PATCH', path: '/api/v1/users/00000000-0000-4000-8000-000000000000', json: { role: 'user' } }
];

describe('authentication errors', () => {
	const cases: [label: string, headers: Record<string, string>][] = [
		['no Authorization header', {}],
		['an unknown session token', { authorization: 'Bearer abcdefghijklmnopqrstuvwxyz234567' }],
		['an unknown API token', { authorization: 'Bearer pxs7_abcdefghijklmnopqrstuvwxyz234567' }],
		['a Bearer header without a token', { authorization: 'Bearer' }],
		['another scheme', { authorization: 'Basic dXNlcjpwYXNz' }]
	];
	for (const [label, headers] of cases) {
		it(`answers 401 on every authenticated endpoint for ${label}`, async () => {
			for (const op of authenticated) {
				const res = await api.request(op.method, op.path, { json: op.json, headers, token: null });
				expectError(res, 'unauthorized');
			}
		});
	}

	it('still serves public endpoints to a request with a bad token', async () => {
		const res = await api.get('/health', { token: 'not-a-real-token' });
		expect(res.status).toBe(200);
	});
});

describe('request errors', () => {
	it('answers 404 not_found JSON for unknown /api/v1 paths, with any method', async () => {
		for (const method of ['GET', 'POST', 'PUT', 'PATCH', 'DELETE']) {
			const error = expectError(await api.request(method, '/api/v1/no/such/endpoint'), 'not_found');
			expect(error.details).toBeNull();
		}
		// Also when signed in, and for an id that is not a uuid.
		expectError(await api.get('/api/v1/nothing-here', { token: member.token }), 'not_found');
		expectError(await api.delete('/api/v1/auth/sessions/not-a-uuid', { token: member.token }), 'not_found');
		expectError(await api.patch('/api/v1/users/42', { role: 'user' }, { token: member.token }), 'not_found');
	});

	it('answers 405 method_not_allowed JSON, with the Allow header, for a method an endpoint lacks', async () => {
		const res = await api.request('PUT', '/api/v1/users/me', { token: member.token });
		const error = expectError(res, 'method_not_allowed');
		expect(res.headers.get('allow')).toMatch(/GET/);
		expect(error.details).toMatchObject({ allow: expect.arrayContaining(['GET', 'PATCH']) });
	});

	it('answers 400 validation_error for a malformed JSON body, before and after sign-in', async () => {
		const malformed = { rawBody: '{"email": "a@example.test", ', headers: { 'content-type': 'application/json' } };
		const error = expectError(await api.request('POST', '/api/v1/auth/register', malformed), 'validation_error');
		expect(error.details).toEqual({ fields: {} });
		expectError(await api.request('POST', '/api/v1/auth/login', malformed), 'validation_error');
		expectError(await api.request('PATCH', '/api/v1/users/me', { ...malformed, token: member.token }), 'validation_error');
		expectError(await api.request('POST', '/api/v1/auth/tokens', { ...malformed, token: member.token }), 'validation_error');
	});

	it('answers 400 validation_error with per-field details for a body of the wrong shape', async () => {
		const error = expectError(await api.post('/api/v1/auth/register', ['not', 'an', 'object']), 'validation_error');
		expect(fieldsOf(error)).toHaveProperty('_');
		const fields = fieldsOf(
			expectError(await api.post('/api/v1/auth/tokens', { name: '', expires_in_days: 0 }, { token: member.token }), 'validation_error')
		);
		expect(Object.keys(fields).sort()).toEqual(['expires_in_days', 'name']);
	});
});

describe('cross-site form posts', () => {
	const form = (origin: string) => ({
		rawBody: `email=${encodeURIComponent(member.email)}&password=x`,
		headers: { 'content-type': 'application/x-www-form-urlencoded', origin }
	});

	it('refuses a form post from another origin with 403, to a page action and to the API alike', async () => {
		for (const path of ['/login', '/?/default', '/api/v1/auth/login']) {
			const res = await api.request('POST', path, form('http://evil.example'));
			expect(res.status, path).toBe(403);
			expect(res.text).toContain('Cross-site POST form submissions are forbidden');
		}
	});

	it('refuses the other content types a browser sends cross-site without a preflight', async () => {
		// A JSON body as text/plain would otherwise reach an endpoint that parses any body as JSON.
		// The browser's credential is its cookie; a form cannot carry an Authorization header.
		for (const contentType of ['text/plain', 'multipart/form-data; boundary=x']) {
			const res = await api.request('POST', '/api/v1/auth/tokens', {
				rawBody: '{"name":"planted"}',
				headers: { 'content-type': contentType, origin: 'http://evil.example', cookie: `pixsim7_session=${member.token}` },
				token: null
			});
			expect(res.status, contentType).toBe(403);
		}
		// Nor does leaving the Origin out get a form post through.
		const noOrigin = await api.request('POST', '/api/v1/auth/tokens', {
			rawBody: '{"name":"planted"}',
			headers: { 'content-type': 'text/plain', cookie: `pixsim7_session=${member.token}` },
			token: null
		});
		expect(noOrigin.status).toBe(403);
	});

	it('lets a script that authenticates with a bearer token post a form (it cannot be a cross-site browser form)', async () => {
		const res = await api.request('POST', '/api/v1/auth/tokens', {
			rawBody: '{"name":"from a script"}',
			headers: { 'content-type': 'text/plain' },
			token: member.token
		});
		expect(res.status).toBe(201);
	});

	it('lets the same form through from the app’s own origin (to be judged on its merits)', async () => {
		const res = await api.request('POST', '/api/v1/auth/login', form(server.url));
		// Not refused as cross-site: the JSON endpoint reads the body and finds it is not JSON.
		expectError(res, 'validation_error');
	});
});

const JsonSchema = z.looseObject({
	$ref: z.string().optional(),
	type: z.string().optional(),
	minLength: z.number().optional(),
	maxLength: z.number().optional(),
	minimum: z.number().optional(),
	maximum: z.number().optional(),
	format: z.string().optional(),
	properties: z.record(z.string(), z.looseObject({})).optional(),
	required: z.array(z.string()).optional()
});
const OpenApiOperation = z.looseObject({
	summary: z.string(),
	tags: z.array(z.string()),
	security: z.array(z.record(z.string(), z.array(z.string()))),
	requestBody: z.object({ required: z.boolean(), content: z.record(z.string(), z.object({ schema: JsonSchema })) }).optional(),
	parameters: z.array(z.looseObject({ in: z.string(), name: z.string(), schema: JsonSchema })).optional(),
	responses: z.record(z.string(), z.looseObject({ description: z.string() }))
});
const OpenApiDocument = z.looseObject({
	openapi: z.string(),
	info: z.looseObject({ title: z.string(), version: z.string() }),
	paths: z.record(z.string(), z.record(z.string(), OpenApiOperation)),
	components: z.looseObject({
		schemas: z.record(z.string(), JsonSchema),
		securitySchemes: z.record(z.string(), z.looseObject({ type: z.string() }))
	})
});
type OpenApiDocument = z.infer<typeof OpenApiDocument>;

describe('GET /api/v1/openapi.json', () => {
	let doc: OpenApiDocument;
	beforeAll(async () => {
		const res = await api.get('/api/v1/openapi.json');
		expect(res.status).toBe(200);
		doc = parseBody(OpenApiDocument, res);
	});

	/** The contract's endpoints: method, path, request body schema, status codes it must list. */
	const contract: { method: string; path: string; body?: string; statuses: string[]; bearer: boolean }[] = [
		{ method: 'get', path: '/health', statuses: ['200'], bearer: false },
		{ method: 'post', path: '/api/v1/auth/register', body: 'RegisterRequest', statuses: ['201', '400', '409'], bearer: false },
		{ method: 'post', path: '/api/v1/auth/login', body: 'LoginRequest', statuses: ['200', '400', '401', '403', '429'], bearer: false },
		{ method: 'post', path: '/api/v1/auth/logout', statuses: ['204', '401'], bearer: true },
		{ method: 'get', path: '/api/v1/auth/sessions', statuses: ['200', '401'], bearer: true },
		{ method: 'delete', path: '/api/v1/auth/sessions/{id}', statuses: ['204', '401', '404'], bearer: true },
		{ method: 'post', path: '/api/v1/auth/sessions/revoke-others', statuses: ['200', '401'], bearer: true },
		{ method: 'get', path: '/api/v1/auth/tokens', statuses: ['200', '401'], bearer: true },
		{ method: 'post', path: '/api/v1/auth/tokens', body: 'CreateApiTokenRequest', statuses: ['201', '400', '401'], bearer: true },
		{ method: 'delete', path: '/api/v1/auth/tokens/{id}', statuses: ['204', '401', '404'], bearer: true },
		{ method: 'get', path: '/api/v1/users/me', statuses: ['200', '401'], bearer: true },
		{ method: 'patch', path: '/api/v1/users/me', body: 'UpdateMeRequest', statuses: ['200', '400', '401', '409'], bearer: true },
		{ method: 'get', path: '/api/v1/users', statuses: ['200', '400', '401', '403'], bearer: true },
		{ method: 'patch', path: '/api/v1/users/{id}', body: 'AdminUpdateUserRequest', statuses: ['200', '400', '401', '403', '404', '409'], bearer: true }
	];

	it('is an OpenAPI 3.1 document with bearer authentication', () => {
		expect(doc.openapi).toBe('3.1.0');
		expect(doc.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
	});

	for (const op of contract) {
		it(`lists ${op.method.toUpperCase()} ${op.path} with its request schema and responses`, () => {
			const operation = doc.paths[op.path]?.[op.method];
			expect(operation, `${op.method} ${op.path} missing`).toBeDefined();
			expect(Object.keys(operation.responses)).toEqual(expect.arrayContaining(op.statuses));
			expect(operation.security).toEqual(op.bearer ? [{ bearer: [] }] : []);
			if (op.body) {
				expect(operation.requestBody?.required).toBe(true);
				expect(operation.requestBody?.content['application/json']?.schema.$ref).toBe(`#/components/schemas/${op.body}`);
				expect(doc.components.schemas[op.body]).toBeDefined();
			} else {
				expect(operation.requestBody).toBeUndefined();
			}
			if (op.path.includes('{id}')) {
				expect(operation.parameters).toEqual([expect.objectContaining({ in: 'path', name: 'id', schema: expect.objectContaining({ format: 'uuid' }) })]);
			}
		});
	}

	it('describes the request bodies as the endpoints validate them', () => {
		const schemas = doc.components.schemas;
		const register = schemas.RegisterRequest;
		expect(register.required?.sort()).toEqual(['email', 'password', 'username']);
		expect(register.properties?.password).toMatchObject({ type: 'string', minLength: 8 });
		expect(register.properties?.email).toMatchObject({ type: 'string', format: 'email' });
		expect(register.properties?.username).toMatchObject({ type: 'string', minLength: 3, maxLength: 32 });

		expect(schemas.LoginRequest.required?.sort()).toEqual(['email', 'password']);
		expect(Object.keys(schemas.UpdateMeRequest.properties ?? {}).sort()).toEqual(['current_password', 'new_password', 'username']);
		expect(schemas.UpdateMeRequest.properties?.new_password).toMatchObject({ minLength: 8 });
		expect(Object.keys(schemas.AdminUpdateUserRequest.properties ?? {}).sort()).toEqual(['is_active', 'quotas', 'role']);
		expect(schemas.CreateApiTokenRequest.required).toEqual(['name']);
		expect(schemas.Error.required).toEqual(['error']);
	});

	it('documents the admin list query: page, per_page (at most 100) and q', () => {
		const params = doc.paths['/api/v1/users'].get.parameters ?? [];
		expect(params.map((p) => `${p.in}:${p.name}`)).toEqual(['query:page', 'query:per_page', 'query:q']);
		expect(params.find((p) => p.name === 'per_page')?.schema).toMatchObject({ minimum: 1, maximum: 100 });
	});
});

describe('GET /docs', () => {
	it('serves an HTML page whose swagger-ui stylesheet and scripts all load', async () => {
		const res = await fetch(`${server.url}/docs`);
		expect(res.status).toBe(200);
		expect(res.headers.get('content-type')).toMatch(/^text\/html/);
		const html = await res.text();
		const assets = [...html.matchAll(/<(?:link[^>]+href|script[^>]+src)="([^"]+)"/g)].map((m) => m[1]);
		expect(assets.some((a) => a.endsWith('.css'))).toBe(true);
		expect(assets.filter((a) => a.endsWith('.js')).length).toBeGreaterThanOrEqual(2);
		for (const asset of assets) {
			const loaded = await fetch(new URL(asset, `${server.url}/docs`));
			expect(loaded.status, asset).toBe(200);
			expect(loaded.headers.get('content-type'), asset).toMatch(asset.endsWith('.css') ? /^text\/css/ : /^text\/javascript/);
			const body = await loaded.text();
			expect(body.length, asset).toBeGreaterThan(0);
			if (asset.endsWith('swagger-ui-bundle.js')) expect(body).toContain('SwaggerUIBundle');
			if (asset.endsWith('init.js')) expect(body).toContain('/api/v1/openapi.json');
		}
	});

	it('answers 404 for other files under /docs', async () => {
		expect((await fetch(`${server.url}/docs/package.json`)).status).toBe(404);
	});
});

describe('structured log', () => {
	it('never contains a password or a token, through register, login, token creation and a password change', async () => {
		const secret = () => `Secret-${randomBytes(6).toString('hex')}`;
		const password = secret();
		const newPassword = secret();
		const wrongPassword = secret();
		const shortPassword = randomBytes(3).toString('hex') + '!';

		const user = await registerViaApi(api, { password });
		const loginToken = await loginViaApi(api, { email: user.email, password });
		expectError(await api.post('/api/v1/auth/login', { email: user.email, password: wrongPassword }), 'unauthorized');
		const created = parseBody(CreatedApiToken, await api.post('/api/v1/auth/tokens', { name: 'ci' }, { token: loginToken }));
		expect((await api.get('/api/v1/users/me', { token: created.token })).status).toBe(200);
		expectError(
			await api.post('/api/v1/auth/register', { email: `${uniqueName()}@example.test`, username: uniqueName(), password: shortPassword }),
			'validation_error'
		);
		expectError(await api.patch('/api/v1/users/me', { current_password: wrongPassword, new_password: newPassword }, { token: loginToken }), 'validation_error');
		const changed = await api.patch('/api/v1/users/me', { current_password: password, new_password: newPassword }, { token: loginToken });
		expect(changed.status).toBe(200);
		const last = changed.headers.get('x-request-id') ?? '';
		await waitForLog(server.output, (l) => l.request_id === last && l.msg === 'http:request');

		const output = server.output();
		for (const value of [password, newPassword, wrongPassword, shortPassword, user.token, loginToken, created.token]) {
			expect(output).not.toContain(value);
		}
		expect(output).not.toMatch(/bearer\s+\S/i);
	});

	it('writes JSON lines with a request_id, and the user_id (once) on authenticated requests', async () => {
		const requestId = `test-${randomBytes(4).toString('hex')}`;
		const me = await api.get('/api/v1/users/me', { token: member.token, headers: { 'x-request-id': requestId } });
		expect(me.headers.get('x-request-id')).toBe(requestId);
		const line = await waitForLog(server.output, (l) => l.request_id === requestId && l.msg === 'http:request');
		expect(line).toMatchObject({ level: 30, service: 'web', method: 'GET', path: '/api/v1/users/me', status: 200, user_id: member.id });

		const anonymous = await api.get('/health');
		const anonymousId = anonymous.headers.get('x-request-id') ?? '';
		expect(anonymousId).toMatch(/^[0-9a-f-]{36}$/);
		const anonymousLine = await waitForLog(server.output, (l) => l.request_id === anonymousId);
		expect(anonymousLine.user_id).toBeUndefined();

		const lines = server.output().split('\n').filter((l) => l.startsWith('{'));
		const requests = parseLog(server.output()).filter((l) => l.msg === 'http:request');
		expect(requests.length).toBeGreaterThan(10);
		for (const request of requests) expect(request.request_id).toEqual(expect.any(String));
		// A key written twice is legal for JSON.parse but not for every log pipeline.
		for (const raw of lines) expect(raw.split('"user_id":').length - 1, raw).toBeLessThanOrEqual(1);
	});

	it('answered no request with a 500 and logged no error', () => {
		expectNoServerErrors(server.output());
	});
});
