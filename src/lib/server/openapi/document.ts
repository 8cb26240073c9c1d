/**
 * Builds the OpenAPI 3.1 document from the operations that the route modules export: the same
 * zod schemas that parse requests describe them here.
 */
import { createDocument, type ZodOpenApiOperationObject, type ZodOpenApiPathsObject } from 'zod-openapi';
import { ErrorResponse } from '../../schemas/common';
import type { ErrorCode } from '../errors';
import type { Operation } from '../http/endpoint';

export type RouteModules = Record<string, { _operations?: Record<string, Operation> }>;

const STATUS_OF: Record<ErrorCode, string> = {
	validation_error: '400',
	unauthorized: '401',
	forbidden: '403',
	not_found: '404',
	conflict: '409',
	rate_limited: '429',
	quota_exceeded: '429',
	method_not_allowed: '405',
	payload_too_large: '413',
	unsupported_media_type: '415',
	service_unavailable: '503',
	internal_error: '500'
};

/** '/src/routes/api/v1/auth/sessions/[id=uuid]/+server.ts' → '/api/v1/auth/sessions/{id}' */
export function routePath(file: string): string {
	const dir = file.replace(/^.*\/routes/, '').replace(/\/\+server\.(ts|js)$/, '');
	const segments = dir
		.split('/')
		.filter((s) => s && !/^\(.*\)$/.test(s))
		.map((s) => s.replace(/^\[(?:\.\.\.)?([^=\]]+)(?:=[^\]]+)?\]$/, '{$1}'));
	return '/' + segments.join('/');
}

function toOpenApi(op: Operation): ZodOpenApiOperationObject {
	const codes = new Set<ErrorCode>(op.errors ?? []);
	if (op.body || op.query) codes.add('validation_error');
	if (op.auth !== 'public') codes.add('unauthorized');
	if (op.auth === 'admin') codes.add('forbidden');

	const responses: Record<string, { description: string; content?: unknown }> = {
		[String(op.success.status)]: {
			description: op.success.description,
			...(op.success.schema ? { content: { [op.success.contentType ?? 'application/json']: { schema: op.success.schema } } } : {})
		}
	};
	for (const extra of op.otherResponses ?? []) {
		responses[String(extra.status)] = {
			description: extra.description,
			...(extra.schema ? { content: { 'application/json': { schema: extra.schema } } } : {})
		};
	}
	for (const code of codes) {
		const status = STATUS_OF[code];
		const existing = responses[status];
		responses[status] = {
			description: existing ? `${existing.description}, ${code}` : code,
			content: { 'application/json': { schema: ErrorResponse } }
		};
	}

	return {
		summary: op.summary,
		...(op.description ? { description: op.description } : {}),
		tags: op.tags,
		security: op.auth === 'public' ? [] : [{ bearer: [] }],
		...(op.params || op.query || op.headers
			? {
					requestParams: {
						...(op.params ? { path: op.params } : {}),
						...(op.query ? { query: op.query } : {}),
						...(op.headers ? { header: op.headers } : {})
					}
				}
			: {}),
		...(op.body ? { requestBody: { required: true, content: { 'application/json': { schema: op.body } } } } : {}),
		...(op.rawBody
			? {
					requestBody: {
						required: true,
						description: op.rawBody.description,
						content: { [op.rawBody.contentType]: { schema: op.rawBody.schema } }
					}
				}
			: {}),
		responses
	} as ZodOpenApiOperationObject;
}

export function buildOpenApiDocument(modules: RouteModules, version: string) {
	const paths: ZodOpenApiPathsObject = {};
	for (const [file, mod] of Object.entries(modules).sort(([a], [b]) => a.localeCompare(b))) {
		if (!mod._operations) continue;
		const item: Record<string, ZodOpenApiOperationObject> = {};
		for (const [method, op] of Object.entries(mod._operations)) item[method.toLowerCase()] = toOpenApi(op);
		paths[routePath(file)] = item;
	}
	return createDocument({
		openapi: '3.1.0',
		info: {
			title: 'PixSim7 API',
			version,
			description:
				'JSON API for scripts. Authenticate with `Authorization: Bearer <token>`: a session token from /auth/login or a personal API token. Errors are `{"error": {"code", "message", "details"}}`.'
		},
		servers: [{ url: '/' }],
		components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
		paths
	});
}
