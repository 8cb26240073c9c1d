/**
 * A small client for the JSON API under test: every call answers status, headers and the parsed
 * body, and `expectError` checks the one error shape the contract promises.
 */
import { randomBytes } from 'node:crypto';
import { expect } from 'vitest';
import { z } from 'zod';
import { AuthResponse } from '../../src/lib/schemas/auth';
import { TEST_PASSWORD } from './factories';

export interface ApiResponse {
	status: number;
	headers: Headers;
	/** The parsed JSON body; null when the body is empty or not JSON (see `text`). */
	body: unknown;
	text: string;
}

export interface RequestOptions {
	/** Sent as JSON. */
	json?: unknown;
	/** Sent as is (for malformed bodies and form posts). */
	rawBody?: string;
	headers?: Record<string, string>;
	/** Overrides the client's bearer token; null sends none. */
	token?: string | null;
}

export class ApiClient {
	constructor(
		readonly baseUrl: string,
		readonly token: string | null = null
	) {}

	as(token: string | null): ApiClient {
		return new ApiClient(this.baseUrl, token);
	}

	async request(method: string, path: string, options: RequestOptions = {}): Promise<ApiResponse> {
		const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
		const token = options.token === undefined ? this.token : options.token;
		if (token) headers.authorization = `Bearer ${token}`;
		let body: string | undefined = options.rawBody;
		if (options.json !== undefined) {
			body = JSON.stringify(options.json);
			headers['content-type'] ??= 'application/json';
		}
		const res = await fetch(new URL(path, this.baseUrl), { method, headers, body, redirect: 'manual' });
		const text = await res.text();
		let parsed: unknown = null;
		try {
			parsed = text ? JSON.parse(text) : null;
		} catch {
			// Not JSON: callers that care read `text`.
		}
		return { status: res.status, headers: res.headers, body: parsed, text };
	}

	get(path: string, options?: RequestOptions) {
		return this.request('GET', path, options);
	}
	post(path: string, json?: unknown, options: RequestOptions = {}) {
		return this.request('POST', path, { json, ...options });
	}
	patch(path: string, json?: unknown, options: RequestOptions = {}) {
		return this.request('PATCH', path, { json, ...options });
	}
	delete(path: string, options?: RequestOptions) {
		return this.request('DELETE', path, options);
	}
}

export const errorCodes = [
	'validation_error',
	'unauthorized',
	'forbidden',
	'not_found',
	'conflict',
	'rate_limited',
	'method_not_allowed',
	'service_unavailable',
	'payload_too_large',
	'unsupported_media_type',
	'quota_exceeded'
] as const;
export type ContractErrorCode = (typeof errorCodes)[number];

/** The error envelope, exactly: no other keys at either level. */
export const ErrorEnvelope = z.strictObject({
	error: z.strictObject({
		code: z.enum(errorCodes),
		message: z.string().min(1),
		details: z.unknown()
	})
});
export type ErrorEnvelope = z.infer<typeof ErrorEnvelope>;

const statusOf: Record<ContractErrorCode, number> = {
	validation_error: 400,
	unauthorized: 401,
	forbidden: 403,
	not_found: 404,
	conflict: 409,
	rate_limited: 429,
	method_not_allowed: 405,
	service_unavailable: 503,
	payload_too_large: 413,
	unsupported_media_type: 415,
	// Storage quota (the upload paths); the daily job quota answers 429 and is checked by status.
	quota_exceeded: 413
};

/** Asserts the status, the JSON content type and the envelope; returns the inner error. */
export function expectError(res: ApiResponse, code: ContractErrorCode): ErrorEnvelope['error'] {
	expect({ status: res.status, body: res.body }).toMatchObject({ status: statusOf[code], body: { error: { code } } });
	expect(res.headers.get('content-type')).toMatch(/^application\/json/);
	const parsed = ErrorEnvelope.safeParse(res.body);
	if (!parsed.success) throw new Error(`Not the error envelope: ${res.text}\n${parsed.error.message}`);
	return parsed.data.error;
}

/** The per-field messages of a validation or conflict error. */
export function fieldsOf(error: ErrorEnvelope['error']): Record<string, string[]> {
	return z.object({ fields: z.record(z.string(), z.array(z.string())) }).parse(error.details).fields;
}

/** Parses a body with one of the app's response schemas, failing the test with the body on error. */
export function parseBody<S extends z.ZodType>(schema: S, res: ApiResponse): z.output<S> {
	const parsed = schema.safeParse(res.body);
	if (!parsed.success) throw new Error(`Unexpected body (status ${res.status}): ${res.text}\n${parsed.error.message}`);
	return parsed.data;
}

export interface RegisteredUser {
	id: string;
	email: string;
	username: string;
	password: string;
	token: string;
	role: 'user' | 'admin';
}

export function uniqueName(prefix = 'u'): string {
	return `${prefix}_${randomBytes(4).toString('hex')}`;
}

/** Registers through the API and returns the new user with a bearer token. */
export async function registerViaApi(
	api: ApiClient,
	overrides: { email?: string; username?: string; password?: string; headers?: Record<string, string> } = {}
): Promise<RegisteredUser> {
	const username = overrides.username ?? uniqueName();
	const email = overrides.email ?? `${username}@example.test`;
	const password = overrides.password ?? TEST_PASSWORD;
	const res = await api.post('/api/v1/auth/register', { email, username, password }, { token: null, headers: overrides.headers });
	expect(res.status, res.text).toBe(201);
	const body = parseBody(AuthResponse, res);
	return { id: body.user.id, email, username, password, token: body.access_token, role: body.user.role };
}

export async function loginViaApi(
	api: ApiClient,
	credentials: { email: string; password: string },
	headers?: Record<string, string>
): Promise<string> {
	const res = await api.post('/api/v1/auth/login', credentials, { token: null, headers });
	expect(res.status, res.text).toBe(200);
	return parseBody(AuthResponse, res).access_token;
}
