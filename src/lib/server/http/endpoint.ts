/**
 * JSON endpoints are declared as an operation (its schemas, auth and responses) plus a handler.
 * The same operation object parses the request here and is read by the OpenAPI generator, so
 * the published document cannot drift from what the endpoint accepts.
 */
import { json, type RequestEvent, type RequestHandler } from '@sveltejs/kit';
import { z } from 'zod';
import type { User } from '../db/schema';
import { AppError, errorBody, NotFoundError, RateLimitedError, ServiceUnavailableError, UnauthorizedError, ValidationError, type ErrorCode, type FieldErrors } from '../errors';
import { logger } from '../logger';
import { isDatabaseUnavailable } from '../db/errors';

type Schema = z.ZodType;
type Auth = 'public' | 'user' | 'admin';

export interface Operation<B extends Schema | undefined = Schema | undefined, Q extends Schema | undefined = Schema | undefined, P extends Schema | undefined = Schema | undefined, A extends Auth = Auth> {
	summary: string;
	description?: string;
	tags: string[];
	/** `admin` documents the requirement; the service enforces it. */
	auth: A;
	body?: B;
	query?: Q;
	params?: P;
	/** contentType: for a success that is not JSON (the event stream's text/event-stream). */
	success: { status: 200 | 201 | 202 | 204; description: string; schema?: Schema; contentType?: string };
	/** A body the handler reads itself (raw bytes, multipart), documented but not parsed here. */
	rawBody?: { contentType: string; description: string; schema: Schema };
	/** Request headers the operation reads, for the document. */
	headers?: Schema;
	/** Responses that are neither the success nor an API error, e.g. the health check's 503. */
	otherResponses?: { status: number; description: string; schema?: Schema }[];
	/** Error codes this operation may answer, besides validation and auth. */
	errors?: ErrorCode[];
}

type Parsed<S> = S extends Schema ? z.output<S> : undefined;

export interface HandlerInput<B, Q, P, A extends Auth> {
	event: RequestEvent;
	body: Parsed<B>;
	query: Parsed<Q>;
	params: Parsed<P>;
	user: A extends 'public' ? User | null : User;
}

export function operation<B extends Schema | undefined = undefined, Q extends Schema | undefined = undefined, P extends Schema | undefined = undefined, A extends Auth = Auth>(
	op: Operation<B, Q, P, A>
): Operation<B, Q, P, A> {
	return op;
}

export function endpoint<B extends Schema | undefined, Q extends Schema | undefined, P extends Schema | undefined, A extends Auth>(
	op: Operation<B, Q, P, A>,
	handler: (input: HandlerInput<B, Q, P, A>) => Promise<unknown>
): RequestHandler {
	return async (event) => {
		try {
			const user = event.locals.user;
			if (op.auth !== 'public' && !user) throw new UnauthorizedError('A valid bearer token or session is required.');
			// A malformed id cannot name anything: answer as for an unknown one.
			const params = op.params ? parseWith(op.params, event.params, () => new NotFoundError()) : undefined;
			const query = op.query ? parseWith(op.query, Object.fromEntries(event.url.searchParams), invalid) : undefined;
			const body = op.body ? parseWith(op.body, await readJson(event.request), invalid) : undefined;

			const result = await handler({ event, body, query, params, user } as HandlerInput<B, Q, P, A>);
			if (result instanceof Response) return result;
			if (op.success.status === 204) return new Response(null, { status: 204 });
			return jsonResponse(result, op.success.status);
		} catch (err) {
			return errorResponse(err, event);
		}
	};
}

/**
 * SvelteKit's json() with its headers, less one copy: it encodes the whole body to UTF-8 only to
 * count its bytes (a 60-asset page is ~50 kB), where Buffer.byteLength counts without allocating.
 */
function jsonResponse(data: unknown, status: number): Response {
	// undefined (a handler that returned nothing) stringifies to undefined: an empty body, as json() sends.
	const body: string | undefined = JSON.stringify(data);
	return new Response(body ?? null, {
		status,
		headers: { 'content-length': String(body === undefined ? 0 : Buffer.byteLength(body, 'utf8')), 'content-type': 'application/json' }
	});
}

async function readJson(request: Request): Promise<unknown> {
	const text = await request.text();
	if (text.trim() === '') return {};
	try {
		return JSON.parse(text);
	} catch {
		throw new ValidationError('The request body must be valid JSON.');
	}
}

function invalid(fields: FieldErrors): AppError {
	return new ValidationError('Some fields are not valid.', fields);
}

function parseWith<S extends Schema>(schema: S, value: unknown, onError: (fields: FieldErrors) => AppError): z.output<S> {
	const parsed = schema.safeParse(value);
	if (!parsed.success) throw onError(fieldErrors(parsed.error));
	return parsed.data;
}

/** Zod issues as `{ "field.path": ["message", ...] }`; form-level issues under "_". */
export function fieldErrors(error: z.ZodError): FieldErrors {
	const fields: FieldErrors = {};
	for (const issue of error.issues) {
		const key = issue.path.length ? issue.path.join('.') : '_';
		(fields[key] ??= []).push(issue.message);
	}
	return fields;
}

export function errorResponse(err: unknown, event: RequestEvent): Response {
	if (!(err instanceof AppError) && isDatabaseUnavailable(err)) {
		(event.locals.log ?? logger).warn({ err }, 'db:unavailable');
		err = new ServiceUnavailableError();
	}
	if (err instanceof AppError) {
		const headers: Record<string, string> = {};
		if (err instanceof RateLimitedError) headers['retry-after'] = String(err.retryAfterSeconds);
		return json(errorBody(err), { status: err.status, headers });
	}
	(event.locals.log ?? logger).error({ err }, 'http:unhandled');
	return json({ error: { code: 'internal_error', message: 'Something went wrong on our side.', details: null } }, { status: 500 });
}
