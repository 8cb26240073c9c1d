/**
 * The sign-in limiter over HTTP, on a server with small limits. The server takes the client
 * address from X-Forwarded-For (adapter-node's ADDRESS_HEADER), so one test process can speak
 * from many addresses and the two counters can be told apart.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAppServer, type AppServer } from '../support/app-server';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { ApiClient, expectError, registerViaApi, uniqueName, type ApiResponse, type RegisteredUser } from '../support/http';

const PER_ACCOUNT = 3;
const PER_IP = 6;
const WINDOW_SECONDS = 120;

let t: TestDatabase;
let server: AppServer;
let api: ApiClient;

beforeAll(async () => {
	t = await createTestDatabase();
	server = await startAppServer(t.url, {
		LOGIN_MAX_ATTEMPTS_PER_ACCOUNT: String(PER_ACCOUNT),
		LOGIN_MAX_ATTEMPTS_PER_IP: String(PER_IP),
		LOGIN_WINDOW_SECONDS: String(WINDOW_SECONDS),
		ADDRESS_HEADER: 'x-forwarded-for'
	});
	api = new ApiClient(server.url);
});
afterAll(async () => {
	await server?.stop();
	await t?.destroy();
});

let nextAddress = 1;
/** A client address no other attempt in this file has used. */
const freshIp = () => `10.0.${Math.floor(nextAddress / 250)}.${(nextAddress++ % 250) + 1}`;

function login(email: string, password: string, ip = freshIp()): Promise<ApiResponse> {
	return api.post('/api/v1/auth/login', { email, password }, { token: null, headers: { 'x-forwarded-for': ip } });
}

function expectRateLimited(res: ApiResponse): void {
	const error = expectError(res, 'rate_limited');
	const retryAfter = Number(res.headers.get('retry-after'));
	expect(Number.isInteger(retryAfter)).toBe(true);
	expect(retryAfter).toBeGreaterThanOrEqual(1);
	expect(retryAfter).toBeLessThanOrEqual(WINDOW_SECONDS);
	expect(error.details).toEqual({ retry_after_seconds: retryAfter });
}

describe('per account', () => {
	let victim: RegisteredUser;
	let bystander: RegisteredUser;
	beforeAll(async () => {
		victim = await registerViaApi(api);
		bystander = await registerViaApi(api);
	});

	it(`refuses the account with 429 and Retry-After after ${PER_ACCOUNT} attempts, from any address, even with the right password`, async () => {
		for (let i = 0; i < PER_ACCOUNT; i++) expectError(await login(victim.email, 'wrong password'), 'unauthorized');
		expectRateLimited(await login(victim.email, victim.password));
		// The account key ignores case and surrounding spaces.
		expectRateLimited(await login(`  ${victim.email.toUpperCase()} `, victim.password));
	});

	it('leaves other accounts alone', async () => {
		expect((await login(bystander.email, bystander.password)).status).toBe(200);
	});

	it('counts attempts on unknown emails too, so probing for accounts is limited as well', async () => {
		const ghost = `${uniqueName('ghost')}@example.test`;
		for (let i = 0; i < PER_ACCOUNT; i++) expectError(await login(ghost, 'whatever1'), 'unauthorized');
		expectRateLimited(await login(ghost, 'whatever1'));
	});

	it('starts the count again after a successful sign-in', async () => {
		const user = await registerViaApi(api);
		for (let i = 0; i < PER_ACCOUNT - 1; i++) expectError(await login(user.email, 'wrong password'), 'unauthorized');
		expect((await login(user.email, user.password)).status).toBe(200);
		for (let i = 0; i < PER_ACCOUNT - 1; i++) expectError(await login(user.email, 'wrong password'), 'unauthorized');
		expect((await login(user.email, user.password)).status).toBe(200);
	});
});

describe('per IP address', () => {
	it(`refuses an address with 429 and Retry-After after ${PER_IP} attempts on any accounts, and only that address`, async () => {
		const user = await registerViaApi(api);
		const ip = freshIp();
		for (let i = 0; i < PER_IP; i++) {
			expectError(await login(`${uniqueName('probe')}@example.test`, 'wrong password', ip), 'unauthorized');
		}
		expectRateLimited(await login(user.email, user.password, ip));
		expect((await login(user.email, user.password, freshIp())).status).toBe(200);
	});
});
