/**
 * Typed errors thrown by services. Each carries its machine-readable code and HTTP status, so the
 * mapping to a response lives here once and routes never translate errors themselves.
 */
export type ErrorCode =
	| 'validation_error'
	| 'unauthorized'
	| 'forbidden'
	| 'not_found'
	| 'conflict'
	| 'rate_limited'
	| 'quota_exceeded'
	| 'method_not_allowed'
	| 'payload_too_large'
	| 'unsupported_media_type'
	| 'service_unavailable'
	| 'internal_error';

export type FieldErrors = Record<string, string[]>;

export class AppError extends Error {
	constructor(
		readonly code: ErrorCode,
		readonly status: number,
		message: string,
		readonly details?: unknown
	) {
		super(message);
		this.name = new.target.name;
	}
}

export class ValidationError extends AppError {
	constructor(message: string, readonly fields: FieldErrors = {}) {
		super('validation_error', 400, message, { fields });
	}
}

export class UnauthorizedError extends AppError {
	constructor(message = 'Sign in to continue.') {
		super('unauthorized', 401, message);
	}
}

export class ForbiddenError extends AppError {
	constructor(message = 'You do not have permission to do that.') {
		super('forbidden', 403, message);
	}
}

export class NotFoundError extends AppError {
	constructor(what = 'Resource') {
		super('not_found', 404, `${what} not found.`);
	}
}

export class ConflictError extends AppError {
	constructor(message: string, readonly fields: FieldErrors = {}) {
		super('conflict', 409, message, Object.keys(fields).length ? { fields } : undefined);
	}
}

export class RateLimitedError extends AppError {
	constructor(readonly retryAfterSeconds: number, message = 'Too many attempts. Try again later.') {
		super('rate_limited', 429, message, { retry_after_seconds: retryAfterSeconds });
	}
}

/** A body larger than the limit or than what was declared. */
export class PayloadTooLargeError extends AppError {
	constructor(message: string, details?: unknown) {
		super('payload_too_large', 413, message, details);
	}
}

/** Content that is not an accepted image or video type. */
export class UnsupportedMediaTypeError extends AppError {
	constructor(message: string, details?: unknown) {
		super('unsupported_media_type', 415, message, details);
	}
}

/** The database cannot be reached: a passing condition, not a bug, so 503 rather than 500. */
export class ServiceUnavailableError extends AppError {
	constructor(message = 'PixSim7 cannot reach its database right now. Try again shortly.') {
		super('service_unavailable', 503, message);
	}
}

/** A quota would be exceeded. Storage answers 413, daily job counts 429 (by the issues' contracts). */
export class QuotaExceededError extends AppError {
	constructor(message: string, status: 413 | 429, details?: unknown) {
		super('quota_exceeded', status, message, details);
	}
}

/** The API's one error shape: `details` is always present, null when there is nothing to add. */
export interface ErrorBody {
	error: { code: ErrorCode; message: string; details: unknown };
}

export function errorBody(err: AppError): ErrorBody {
	return { error: { code: err.code, message: err.message, details: err.details ?? null } };
}
