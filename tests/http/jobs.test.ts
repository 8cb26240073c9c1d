/** Jobs and the event stream over HTTP against the built app (no worker: jobs stay where the API puts them). */
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { JobJson, JobPage, SubmissionList } from '../../src/lib/schemas/jobs';
import { jobs, providerAccounts, providerSubmissions } from '../../src/lib/server/db/schema';
import { publishEvent } from '../../src/lib/server/events/publish';
import { makeAsset } from '../support/asset-rows';
import { startAppServer, type AppServer } from '../support/app-server';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { ApiClient, expectError, fieldsOf, parseBody, registerViaApi, type RegisteredUser } from '../support/http';
import { openSse } from '../support/sse';

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

const textJob = (prompt = 'a lighthouse at dusk', extra: Record<string, unknown> = {}) => ({
	operation_type: 'text_to_video',
	provider_id: 'local',
	params: { prompt },
	...extra
});

async function newUser(): Promise<{ user: RegisteredUser; as: ApiClient }> {
	const user = await registerViaApi(api);
	return { user, as: api.as(user.token) };
}

describe('/api/v1/jobs', () => {
	it('creates a queued job (201), reads it with its queue position, lists, filters and pages', async () => {
		const { as } = await newUser();
		const created = await as.post('/api/v1/jobs', textJob('first', { name: 'One', priority: 3 }));
		expect(created.status, created.text).toBe(201);
		const job = parseBody(JobJson.strict(), created);
		expect(job).toMatchObject({ status: 'queued', name: 'One', priority: 3, provider_id: 'local', operation_type: 'text_to_video' });
		expect(job.params).toMatchObject({ prompt: 'first' });

		const read = parseBody(JobJson, await as.get(`/api/v1/jobs/${job.id}`));
		expect(read.queue_position).toBeGreaterThanOrEqual(1);

		for (const p of ['second', 'third', 'fourth']) expect((await as.post('/api/v1/jobs', textJob(p))).status).toBe(201);
		const page1 = parseBody(JobPage, await as.get('/api/v1/jobs?limit=3'));
		expect(page1.items.map((j) => j.params.prompt)).toEqual(['fourth', 'third', 'second']);
		expect(page1.next_cursor).not.toBeNull();
		const page2 = parseBody(JobPage, await as.get(`/api/v1/jobs?limit=3&cursor=${page1.next_cursor}`));
		expect(page2.items.map((j) => j.id)).toEqual([job.id]);
		expect(page2.next_cursor).toBeNull();
		expect(page1.items.every((j) => j.queue_position !== null && j.queue_position >= 1)).toBe(true);

		expect(parseBody(JobPage, await as.get('/api/v1/jobs?q=THIR')).items.map((j) => j.params.prompt)).toEqual(['third']);
		expect(parseBody(JobPage, await as.get('/api/v1/jobs?status=completed')).items).toEqual([]);
		expect(parseBody(JobPage, await as.get('/api/v1/jobs?operation_type=text_to_video&provider_id=local')).items).toHaveLength(4);
	});

	it('answers bad input with 400 and field details, never 500', async () => {
		const { user, as } = await newUser();
		expectError(await as.request('POST', '/api/v1/jobs', { rawBody: '{nope', headers: { 'content-type': 'application/json' } }), 'validation_error');
		expect(fieldsOf(expectError(await as.post('/api/v1/jobs', { provider_id: 'local', params: {} }), 'validation_error'))).toHaveProperty(
			'operation_type'
		);
		const unknown = expectError(await as.post('/api/v1/jobs', textJob('x', { provider_id: 'nope' })), 'validation_error');
		expect(unknown.message).toContain('nope');
		const bad = expectError(await as.post('/api/v1/jobs', { ...textJob(), params: { prompt: '', bogus: 1 } }), 'validation_error');
		expect(Object.keys(fieldsOf(bad))).toEqual(expect.arrayContaining(['params.prompt']));
		expect(fieldsOf(expectError(await as.post('/api/v1/jobs', textJob('x', { priority: 11 })), 'validation_error'))).toHaveProperty('priority');
		expect(fieldsOf(expectError(await as.post('/api/v1/jobs', textJob('x', { scheduled_at: 'soon' })), 'validation_error'))).toHaveProperty(
			'scheduled_at'
		);
		expectError(await as.get('/api/v1/jobs?cursor=bogus'), 'validation_error');
		expectError(await as.get('/api/v1/jobs?status=sleeping'), 'validation_error');
		expectError(await api.post('/api/v1/jobs', textJob()), 'unauthorized');

		// Input assets: another user's reads as not found, one still processing is a conflict.
		const { user: other } = await newUser();
		const theirs = await makeAsset(t.db, other.id);
		const i2v = (id: string) => ({ operation_type: 'image_to_video', provider_id: 'local', params: { image_asset_id: id } });
		expect(fieldsOf(expectError(await as.post('/api/v1/jobs', i2v(theirs.id)), 'validation_error'))).toEqual({
			'params.image_asset_id': ['No asset of yours has this id.']
		});
		const processing = await makeAsset(t.db, user.id, { status: 'processing' });
		expect(fieldsOf(expectError(await as.post('/api/v1/jobs', i2v(processing.id)), 'conflict'))).toHaveProperty('params.image_asset_id');
		const mine = await makeAsset(t.db, user.id);
		expect((await as.post('/api/v1/jobs', i2v(mine.id))).status).toBe(201);
	});

	it('honours Idempotency-Key: same body → same job (200), other body → 409', async () => {
		const { as } = await newUser();
		const headers = { 'idempotency-key': 'render-42' };
		const [a, b] = await Promise.all([
			as.post('/api/v1/jobs', textJob('same'), { headers }),
			as.post('/api/v1/jobs', textJob('same'), { headers })
		]);
		expect([a.status, b.status].sort()).toEqual([200, 201]);
		expect(parseBody(JobJson, a).id).toBe(parseBody(JobJson, b).id);
		const again = await as.post('/api/v1/jobs', textJob('same'), { headers });
		expect(again.status).toBe(200);
		expectError(await as.post('/api/v1/jobs', textJob('different'), { headers }), 'conflict');
		expect(parseBody(JobPage, await as.get('/api/v1/jobs')).items).toHaveLength(1);
		expectError(await as.post('/api/v1/jobs', textJob(), { headers: { 'idempotency-key': 'x'.repeat(201) } }), 'validation_error');
	});

	it('answers 429 quota_exceeded past the daily job quota', async () => {
		const { user, as } = await newUser();
		await t.sql`update users set quota_jobs_per_day = 2 where id = ${user.id}`;
		expect((await as.post('/api/v1/jobs', textJob('1'))).status).toBe(201);
		expect((await as.post('/api/v1/jobs', textJob('2'))).status).toBe(201);
		const refused = await as.post('/api/v1/jobs', textJob('3'));
		expect(refused.status).toBe(429);
		expect(refused.body).toMatchObject({ error: { code: 'quota_exceeded', details: { quota: 'jobs_per_day', limit: 2 } } });
	});

	it('chains a child to its parent: pending, then cancelled with the parent', async () => {
		const { as } = await newUser();
		const parent = parseBody(JobJson, await as.post('/api/v1/jobs', textJob('parent')));
		const child = parseBody(
			JobJson,
			await as.post('/api/v1/jobs', {
				operation_type: 'image_to_video',
				provider_id: 'local',
				parent_job_id: parent.id,
				params: { parent_asset_as: 'image_asset_id' }
			})
		);
		expect(child).toMatchObject({ status: 'pending', parent_job_id: parent.id, queue_position: null });
		const scheduled = parseBody(JobJson, await as.post('/api/v1/jobs', textJob('later', { scheduled_at: new Date(Date.now() + 3600_000).toISOString() })));
		expect(scheduled.status).toBe('pending');

		const cancelled = await as.post(`/api/v1/jobs/${parent.id}/cancel`);
		expect(cancelled.status).toBe(200);
		expect(parseBody(JobJson, cancelled).status).toBe('cancelled');
		expect(parseBody(JobJson, await as.get(`/api/v1/jobs/${child.id}`))).toMatchObject({
			status: 'cancelled',
			error_message: `Parent job ${parent.id} cancelled`
		});
		expectError(await as.post(`/api/v1/jobs/${parent.id}/cancel`), 'conflict');
		expectError(await as.post('/api/v1/jobs', textJob('x', { parent_job_id: parent.id })), 'conflict');
	});

	it('retries only failed or cancelled jobs; lists submissions with secrets redacted', async () => {
		const { as } = await newUser();
		const job = parseBody(JobJson, await as.post('/api/v1/jobs', textJob()));
		expectError(await as.post(`/api/v1/jobs/${job.id}/retry`), 'conflict');
		await as.post(`/api/v1/jobs/${job.id}/cancel`);
		const retried = await as.post(`/api/v1/jobs/${job.id}/retry`);
		expect(retried.status).toBe(200);
		expect(parseBody(JobJson, retried)).toMatchObject({ status: 'queued', retry_count: 1, error_message: null });

		expect(parseBody(SubmissionList, await as.get(`/api/v1/jobs/${job.id}/submissions`)).items).toEqual([]);
		const [acct] = await t.db.insert(providerAccounts).values({ providerId: 'local', label: 'Renderer A', credentialsEncrypted: 'x' }).returning();
		await t.db.insert(providerSubmissions).values({
			jobId: job.id,
			providerId: 'local',
			accountId: acct.id,
			payload: { prompt: 'p', api_key: 'sk-secret' },
			providerTaskId: 'task-9',
			status: 'submitted'
		});
		const subs = await as.get(`/api/v1/jobs/${job.id}/submissions`);
		const [sub] = parseBody(SubmissionList, subs).items;
		expect(sub).toMatchObject({ provider_task_id: 'task-9', account_label: 'Renderer A', payload: { prompt: 'p', api_key: '[redacted]' } });
		expect(subs.text).not.toContain('sk-secret');
	});

	it('answers 404 for another user’s job and unknown ids on every endpoint', async () => {
		const { as } = await newUser();
		const { as: mallory } = await newUser();
		const job = parseBody(JobJson, await as.post('/api/v1/jobs', textJob()));
		for (const id of [job.id, UNKNOWN_ID]) {
			expectError(await mallory.get(`/api/v1/jobs/${id}`), 'not_found');
			expectError(await mallory.post(`/api/v1/jobs/${id}/cancel`), 'not_found');
			expectError(await mallory.post(`/api/v1/jobs/${id}/retry`), 'not_found');
			expectError(await mallory.get(`/api/v1/jobs/${id}/submissions`), 'not_found');
		}
		expect(parseBody(JobPage, await mallory.get('/api/v1/jobs')).items).toEqual([]);
		expect(parseBody(JobJson, await as.get(`/api/v1/jobs/${job.id}`)).status).toBe('queued');
	});

	it('is in the OpenAPI document, the event stream as text/event-stream', async () => {
		const doc = (await api.get('/api/v1/openapi.json')).body as { paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, unknown> }> }>> };
		for (const path of ['/api/v1/jobs', '/api/v1/jobs/{id}', '/api/v1/jobs/{id}/cancel', '/api/v1/jobs/{id}/retry', '/api/v1/jobs/{id}/submissions']) {
			expect(doc.paths[path], path).toBeDefined();
		}
		expect(Object.keys(doc.paths['/api/v1/events'].get.responses['200'].content ?? {})).toEqual(['text/event-stream']);
	});
});

describe('/api/v1/events', () => {
	const eventsUrl = () => `${server.url}/api/v1/events`;
	const JobData = z.object({ id: z.string(), status: z.string() });

	it('streams my job events live, resumes after Last-Event-ID with only later events, and never shows another user’s', async () => {
		const { user, as } = await newUser();
		const { as: other } = await newUser();
		const stream = await openSse(eventsUrl(), { authorization: `Bearer ${user.token}` });
		expect(stream.status).toBe(200);
		expect(stream.headers.get('content-type')).toMatch(/^text\/event-stream/);

		await other.post('/api/v1/jobs', textJob('not yours'));
		const first = parseBody(JobJson, await as.post('/api/v1/jobs', textJob('one')));
		const created = await stream.next();
		expect(created.event).toBe('job.created');
		expect(JobData.parse(JSON.parse(created.data))).toMatchObject({ id: first.id, status: 'queued' });
		const queued = await stream.next();
		expect(queued.event).toBe('job.queued');
		expect(Number(queued.id)).toBeGreaterThan(Number(created.id));
		stream.close();

		// While away: another job, and an event the worker publishes from its own process.
		const second = parseBody(JobJson, await as.post('/api/v1/jobs', textJob('two')));
		await t.db.transaction((tx) =>
			publishEvent(tx, { ownerId: user.id, type: 'job.started', jobId: second.id, data: { ...second, status: 'processing' } })
		);

		const resumed = await openSse(eventsUrl(), { authorization: `Bearer ${user.token}`, 'last-event-id': String(queued.id) });
		const replay = [await resumed.next(), await resumed.next(), await resumed.next()];
		expect(replay.map((e) => e.event)).toEqual(['job.created', 'job.queued', 'job.started']);
		expect(replay.every((e) => JSON.parse(e.data).id === second.id)).toBe(true);
		expect(await resumed.collect(300)).toEqual([]);

		// Live again: an event committed by another process (the test's own connection, as the worker would).
		const [row] = await t.db.select().from(jobs).where(eq(jobs.id, second.id));
		await t.db.transaction((tx) =>
			publishEvent(tx, { ownerId: user.id, type: 'job.completed', jobId: row.id, data: { id: row.id, status: 'completed' } })
		);
		const live = await resumed.next();
		expect(live.event).toBe('job.completed');
		expect(Number(live.id)).toBeGreaterThan(Number(replay[2].id));
		resumed.close();
	});

	it('resumes from ?last_event_id= and with the session cookie; refuses strangers and bad ids', async () => {
		const { user, as } = await newUser();
		parseBody(JobJson, await as.post('/api/v1/jobs', textJob('a')));
		const stream = await openSse(`${eventsUrl()}?last_event_id=0`, { cookie: `pixsim7_session=${user.token}` });
		expect(stream.status).toBe(200);
		expect((await stream.next()).event).toBe('job.created');
		expect((await stream.next()).event).toBe('job.queued');
		stream.close();

		const anonymous = await fetch(eventsUrl());
		expect(anonymous.status).toBe(401);
		const bad = await fetch(eventsUrl(), { headers: { authorization: `Bearer ${user.token}`, 'last-event-id': 'abc' } });
		expect(bad.status).toBe(400);
	});

	it('uses one LISTEN connection for all streams and frees a stream’s subscription when the client goes away', async () => {
		const { user } = await newUser();
		const streams = await Promise.all(
			[1, 2, 3].map(() => openSse(eventsUrl(), { authorization: `Bearer ${user.token}` }))
		);
		await new Promise((r) => setTimeout(r, 200));
		const listeners = await t.sql`select count(*)::int as n from pg_stat_activity where datname = ${t.name} and application_name = 'pixsim7-events'`;
		expect(listeners[0].n).toBe(1);
		const before = server.output().split('\n').filter((l) => l.includes('events:stream-closed')).length;
		for (const s of streams) s.close();
		const deadline = Date.now() + 5000;
		let closedLines: string[] = [];
		while (Date.now() < deadline) {
			closedLines = server.output().split('\n').filter((l) => l.includes('events:stream-closed')).slice(before);
			if (closedLines.length >= 3) break;
			await new Promise((r) => setTimeout(r, 50));
		}
		expect(closedLines).toHaveLength(3);
		expect(JSON.parse(closedLines[2])).toMatchObject({ user_id: user.id, subscribers: 0 });
	});

	it('ends open streams on SIGTERM, so the server stops at once instead of waiting for clients', async () => {
		const own = await startAppServer(t.url);
		try {
			const user = await registerViaApi(new ApiClient(own.url));
			const stream = await openSse(`${own.url}/api/v1/events`, { authorization: `Bearer ${user.token}` });
			expect(stream.status).toBe(200);
			await new Promise((r) => setTimeout(r, 200));
			const started = Date.now();
			await own.stop();
			// adapter-node would otherwise hold the open response for SHUTDOWN_TIMEOUT (30 s), and the
			// test helper kills the server after 5 s.
			expect(Date.now() - started).toBeLessThan(3000);
			await expect(stream.next(1000)).rejects.toThrow(/ended/);
		} finally {
			await own.stop();
		}
	});
});
