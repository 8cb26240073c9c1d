/** Registration, sign-in and sign-out over HTTP against the built app. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuthResponse } from '../../src/lib/schemas/auth';
import { MeResponse } from '../../src/lib/schemas/users';
import { startAppServer, type AppServer } from '../support/app-server';
import { createTestDatabase, type TestDatabase } from '../support/database';
import {
	ApiClient,
	expectError,
	fieldsOf,
	loginViaApi,
	parseBody,
	registerViaApi,
	uniqueName,
	type RegisteredUser
} from '../support/http';

let t: TestDatabase;
let server: AppServer;
let api: ApiClient;
let admin: RegisteredUser;

beforeAll(async () => {
	t = await createTestDatabase();
	server = await startAppServer(t.url);
	api = new ApiClient(server.url);
});
afterAll(async () => {
	await server?.stop();
	await t?.destroy();
});

describe('POST /api/v1/auth/register', () => {
	it('makes the first account an admin and answers 201 with a working bearer token', async () => {
		const username = uniqueName('first');
		const res = await api.post('/api/v1/auth/register', {
			email: `${username}@example.test`,
			username,
			password: 'a long enough password'
		});
		expect(res.status).toBe(201);
		const body = parseBody(AuthResponse, res);
		expect(body.token_type).toBe('bearer');
		expect(body.user).toMatchObject({ email: `${username}@example.test`, username, role: 'admin', is_active: true });
		// snake_case, and nothing secret in the user object
		expect(Object.keys(body.user).sort()).toEqual(
			['created_at', 'email', 'id', 'is_active', 'last_login_at', 'role', 'username'].sort()
		);
		expect(res.text).not.toContain('password');

		const me = await api.as(body.access_token).get('/api/v1/users/me');
		expect(me.status).toBe(200);
		expect(parseBody(MeResponse, me)).toMatchObject({ id: body.user.id, role: 'admin' });
		admin = { id: body.user.id, email: body.user.email, username, password: 'a long enough password', token: body.access_token, role: 'admin' };
	});

	it('makes later accounts plain users', async () => {
		const second = await registerViaApi(api);
		expect(second.role).toBe('user');
	});

	it('answers 409 for an email already in use, whatever its case', async () => {
		const existing = await registerViaApi(api);
		const res = await api.post('/api/v1/auth/register', {
			email: existing.email.toUpperCase(),
			username: uniqueName(),
			password: 'another password'
		});
		const error = expectError(res, 'conflict');
		expect(Object.keys(fieldsOf(error))).toEqual(['email']);
	});

	it('answers 409 for a username already in use, whatever its case', async () => {
		const existing = await registerViaApi(api);
		const res = await api.post('/api/v1/auth/register', {
			email: `${uniqueName()}@example.test`,
			username: existing.username.toUpperCase(),
			password: 'another password'
		});
		const error = expectError(res, 'conflict');
		expect(Object.keys(fieldsOf(error))).toEqual(['username']);
	});

	it('answers 400 with per-field details for a password shorter than 8 characters', async () => {
		const username = uniqueName();
		const res = await api.post('/api/v1/auth/register', { email: `${username}@example.test`, username, password: 'short77' });
		const error = expectError(res, 'validation_error');
		expect(fieldsOf(error)).toEqual({ password: [expect.stringContaining('8')] });
	});

	it('accepts a password of exactly 8 characters', async () => {
		const user = await registerViaApi(api, { password: '12345678' });
		expect(user.role).toBe('user');
	});

	it('names every invalid field at once', async () => {
		const res = await api.post('/api/v1/auth/register', { email: 'not-an-email', username: 'x', password: '' });
		const error = expectError(res, 'validation_error');
		expect(Object.keys(fieldsOf(error)).sort()).toEqual(['email', 'password', 'username']);
	});
});

describe('POST /api/v1/auth/login', () => {
	let member: RegisteredUser;
	beforeAll(async () => {
		member = await registerViaApi(api);
	});

	it('answers 200 with a new bearer token and the user', async () => {
		const res = await api.post('/api/v1/auth/login', { email: member.email, password: member.password });
		expect(res.status).toBe(200);
		const body = parseBody(AuthResponse, res);
		expect(body).toMatchObject({ token_type: 'bearer', user: { id: member.id, email: member.email } });
		expect(body.user.last_login_at).not.toBeNull();
		expect(body.access_token).not.toBe(member.token);
		expect((await api.as(body.access_token).get('/api/v1/users/me')).status).toBe(200);
	});

	it('treats the email case-insensitively', async () => {
		const token = await loginViaApi(api, { email: member.email.toUpperCase(), password: member.password });
		expect((await api.as(token).get('/api/v1/users/me')).status).toBe(200);
	});

	it('answers 401 with the same message for a wrong password and for an unknown email', async () => {
		const wrongPassword = expectError(
			await api.post('/api/v1/auth/login', { email: member.email, password: 'not the password' }),
			'unauthorized'
		);
		const unknownEmail = expectError(
			await api.post('/api/v1/auth/login', { email: `${uniqueName('nobody')}@example.test`, password: member.password }),
			'unauthorized'
		);
		expect(unknownEmail.message).toBe(wrongPassword.message);
		expect(unknownEmail.details).toEqual(wrongPassword.details);
	});

	it('answers 400 when a field is missing', async () => {
		const error = expectError(await api.post('/api/v1/auth/login', { email: member.email }), 'validation_error');
		expect(Object.keys(fieldsOf(error))).toEqual(['password']);
	});

	it('refuses a deactivated account even with the right password, and lets it in again once reactivated', async () => {
		const inactive = await registerViaApi(api);
		const asAdmin = api.as(admin.token);
		expect((await asAdmin.patch(`/api/v1/users/${inactive.id}`, { is_active: false })).status).toBe(200);

		const refused = await api.post('/api/v1/auth/login', { email: inactive.email, password: inactive.password });
		expectError(refused, 'forbidden');
		// A guesser without the password learns nothing: the wrong password still answers 401.
		expectError(await api.post('/api/v1/auth/login', { email: inactive.email, password: 'wrong password' }), 'unauthorized');

		expect((await asAdmin.patch(`/api/v1/users/${inactive.id}`, { is_active: true })).status).toBe(200);
		await loginViaApi(api, inactive);
	});
});

describe('POST /api/v1/auth/logout', () => {
	it('answers 204 and the token stops working, while other sessions go on', async () => {
		const user = await registerViaApi(api);
		const other = await loginViaApi(api, user);
		const client = api.as(user.token);

		const res = await client.post('/api/v1/auth/logout');
		expect(res.status).toBe(204);
		expect(res.text).toBe('');

		expectError(await client.get('/api/v1/users/me'), 'unauthorized');
		expectError(await client.post('/api/v1/auth/logout'), 'unauthorized');
		expect((await api.as(other).get('/api/v1/users/me')).status).toBe(200);
	});

	it('answers 401 without a token', async () => {
		expectError(await api.post('/api/v1/auth/logout', undefined, { token: null }), 'unauthorized');
	});
});
