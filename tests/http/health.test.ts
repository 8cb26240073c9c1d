/**
 * GET /health while the database goes away under a running server: first refused connections
 * (which heal), then the database dropped outright. The server gets a database of its own.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAppServer, type AppServer } from '../support/app-server';
import { createTestDatabase, onMaintenanceDatabase, type TestDatabase } from '../support/database';
import { ApiClient, expectError, registerViaApi, type ApiResponse, type RegisteredUser } from '../support/http';

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

// The providers are registered in code: listed whether or not the database answers.
const providers = expect.arrayContaining([expect.objectContaining({ id: 'local' })]);
const healthy = { status: 'healthy', providers, database: 'ok', queue: 'ok' };
const degraded = { status: 'degraded', providers, database: 'unreachable', queue: 'unreachable' };

async function timedHealth(): Promise<{ res: ApiResponse; ms: number }> {
	const started = Date.now();
	const res = await api.get('/health');
	return { res, ms: Date.now() - started };
}

/** Ends every connection to the test database; with allow_connections off, none come back. */
async function refuseConnections(): Promise<void> {
	await onMaintenanceDatabase(`alter database ${t.name} with allow_connections false`);
	await onMaintenanceDatabase(`select pg_terminate_backend(pid) from pg_stat_activity where datname = '${t.name}'`);
}

describe('GET /health when the database is unreachable', () => {
	it('is healthy to begin with', async () => {
		const res = await api.get('/health');
		expect({ status: res.status, body: res.body }).toEqual({ status: 200, body: healthy });
	});

	it('answers 503 degraded, promptly, while the database refuses connections', async () => {
		await refuseConnections();
		const { res, ms } = await timedHealth();
		expect({ status: res.status, body: res.body }).toEqual({ status: 503, body: degraded });
		expect(res.headers.get('cache-control')).toBe('no-store');
		expect(ms).toBeLessThan(5000);
	});

	it('answers 503 service_unavailable, not 401 or 500, to a signed-in API call meanwhile', async () => {
		const error = expectError(await api.get('/api/v1/users/me', { token: member.token }), 'service_unavailable');
		expect(error.message).toMatch(/database/);
		const page = await fetch(new URL('/settings', server.url), { headers: { cookie: `pixsim7_session=${member.token}` }, redirect: 'manual' });
		expect(page.status).toBe(503);
	});

	it('is healthy again once the database takes connections, without a restart', async () => {
		await onMaintenanceDatabase(`alter database ${t.name} with allow_connections true`);
		const res = await api.get('/health');
		expect({ status: res.status, body: res.body }).toEqual({ status: 200, body: healthy });
		expect((await api.get('/api/v1/users/me', { token: member.token })).status).toBe(200);
	});

	it('answers 503 degraded after the database is dropped', async () => {
		await onMaintenanceDatabase(`drop database ${t.name} with (force)`);
		const { res, ms } = await timedHealth();
		expect({ status: res.status, body: res.body }).toEqual({ status: 503, body: degraded });
		expect(ms).toBeLessThan(5000);
		// Still serving, and still saying so on the next probe.
		expect((await api.get('/health')).status).toBe(503);
	});
});
