/**
 * GET /api/v1/providers over HTTP against the built app: what a script (or the job form) learns
 * about the providers, with each operation's params as JSON Schema; and the providers on /health.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { startAppServer, type AppServer } from '../support/app-server';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { ApiClient, expectError, parseBody, registerViaApi, type RegisteredUser } from '../support/http';

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

const JsonSchema = z.looseObject({
	type: z.literal('object'),
	properties: z.record(z.string(), z.looseObject({})),
	required: z.array(z.string()).optional(),
	additionalProperties: z.boolean().optional()
});
const ProviderList = z.object({
	items: z.array(
		z.object({
			id: z.string(),
			label: z.string(),
			requires_credentials: z.boolean(),
			operations: z.record(z.string(), z.object({ params_schema: JsonSchema }))
		})
	)
});
const allOperations = ['text_to_video', 'image_to_video', 'video_extend', 'video_transition', 'fusion'];

describe('GET /api/v1/providers', () => {
	it('answers 401 without a token', async () => {
		expectError(await api.get('/api/v1/providers'), 'unauthorized');
	});

	it('lists the local renderer with all five operations, each with the JSON Schema of its params', async () => {
		const { items } = parseBody(ProviderList, await api.get('/api/v1/providers', { token: member.token }));
		const local = items.find((p) => p.id === 'local');
		expect(local).toMatchObject({ label: 'Local renderer', requires_credentials: false });
		expect(Object.keys(local!.operations).sort()).toEqual([...allOperations].sort());

		const t2v = local!.operations.text_to_video.params_schema;
		// Only the prompt is required: every field with a default may be left out.
		expect(t2v.required).toEqual(['prompt']);
		expect(t2v.properties.prompt).toMatchObject({ type: 'string', maxLength: 2048 });
		expect(t2v.properties.duration).toMatchObject({ type: 'integer', minimum: 1, maximum: 10, default: 3 });
		expect(t2v.properties.seed).toMatchObject({ type: 'integer', minimum: 0, maximum: 2147483647, default: 0 });
		expect(t2v.properties.aspect_ratio).toMatchObject({ enum: ['16:9', '1:1', '9:16'], default: '16:9' });

		const ops = local!.operations;
		// Strict: a misspelt parameter is refused rather than silently ignored.
		for (const op of allOperations) expect(ops[op].params_schema.additionalProperties).toBe(false);
		expect(ops.image_to_video.params_schema.required).toEqual(['image_asset_id']);
		expect(ops.image_to_video.params_schema.properties.image_asset_id).toMatchObject({ type: 'string', format: 'uuid' });
		expect(ops.video_extend.params_schema.required).toEqual(['video_asset_id']);
		expect(ops.video_transition.params_schema.required).toEqual(['first_asset_id', 'last_asset_id']);
		expect(ops.fusion.params_schema.properties.image_asset_ids).toMatchObject({ type: 'array', minItems: 1, maxItems: 3 });
	});

	it('is in the OpenAPI document, behind bearer authentication', async () => {
		const doc = (await api.get('/api/v1/openapi.json')).body as {
			paths: Record<string, Record<string, { security: unknown; responses: Record<string, unknown> }>>;
			components: { schemas: Record<string, unknown> };
		};
		const op = doc.paths['/api/v1/providers']?.get;
		expect(op).toBeDefined();
		expect(Object.keys(op.responses)).toEqual(expect.arrayContaining(['200', '401']));
		expect(op.security).toEqual([{ bearer: [] }]);
		expect(doc.components.schemas.ProviderList).toBeDefined();
	});
});

describe('GET /health', () => {
	it('names each provider and its operations', async () => {
		const res = await api.get('/health');
		expect(res.status).toBe(200);
		const { providers } = res.body as { providers: { id: string; operations: string[] }[] };
		expect(providers).toContainEqual({ id: 'local', operations: allOperations });
	});
});
