import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { operation } from '../http/endpoint';
import { buildOpenApiDocument, routePath } from './document';

describe('routePath', () => {
	it('turns SvelteKit route files into OpenAPI paths', () => {
		expect(routePath('/src/routes/api/v1/auth/sessions/[id=uuid]/+server.ts')).toBe('/api/v1/auth/sessions/{id}');
		expect(routePath('/src/routes/(app)/health/+server.ts')).toBe('/health');
		expect(routePath('/src/routes/api/v1/users/me/+server.ts')).toBe('/api/v1/users/me');
	});
});

describe('buildOpenApiDocument', () => {
	it('documents body, params, success and the implied error responses', () => {
		const body = z.object({ name: z.string().min(2) });
		const doc = buildOpenApiDocument(
			{
				'/src/routes/api/v1/things/[id=uuid]/+server.ts': {
					_operations: {
						PATCH: operation({
							summary: 'Rename a thing',
							tags: ['things'],
							auth: 'admin',
							params: z.object({ id: z.uuid() }),
							body,
							success: { status: 200, description: 'Renamed', schema: z.object({ ok: z.boolean() }) },
							errors: ['not_found']
						})
					}
				}
			},
			'test'
		);
		const op = doc.paths?.['/api/v1/things/{id}']?.patch;
		expect(op?.summary).toBe('Rename a thing');
		expect(Object.keys(op?.responses ?? {}).sort()).toEqual(['200', '400', '401', '403', '404']);
		expect(op?.parameters?.[0]).toMatchObject({ in: 'path', name: 'id', required: true });
		expect(JSON.stringify(op?.requestBody)).toContain('"minLength":2');
		expect(op?.security).toEqual([{ bearer: [] }]);
	});
});
