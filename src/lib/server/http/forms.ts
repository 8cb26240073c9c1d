/**
 * Form actions' side of the error mapping: zod issues and service errors become the messages a
 * page shows beside its fields, under the same keys the JSON API uses ("_" for the whole form).
 */
import { fail } from '@sveltejs/kit';
import type { z } from 'zod';
import { AppError, ConflictError, RateLimitedError, ValidationError, type FieldErrors } from '../errors';
import { fieldErrors } from './endpoint';

export type FormParse<T> = { ok: true; data: T } | { ok: false; errors: FieldErrors };

/** A form's text fields parsed with a schema (files are ignored; a repeated field keeps its last value). */
export function parseForm<S extends z.ZodType>(schema: S, form: FormData): FormParse<z.output<S>> {
	const input: Record<string, string> = {};
	for (const [key, value] of form) if (typeof value === 'string') input[key] = value;
	const parsed = schema.safeParse(input);
	return parsed.success ? { ok: true, data: parsed.data } : { ok: false, errors: fieldErrors(parsed.error) };
}

/** The messages for a service error: its field errors when it names fields, else one for the form. */
export function formErrors(err: AppError): FieldErrors {
	if (err instanceof RateLimitedError) {
		return { _: [`Too many attempts. Wait ${err.retryAfterSeconds} seconds and try again.`] };
	}
	const fields = err instanceof ValidationError || err instanceof ConflictError ? err.fields : {};
	return Object.keys(fields).length > 0 ? fields : { _: [err.message] };
}

/**
 * Answers a failed action from what a service threw, with the error's own status. Anything that
 * is not an AppError is a bug: it is rethrown for handleError to log.
 */
export function failWith<T extends Record<string, unknown>>(err: unknown, data: T) {
	if (!(err instanceof AppError)) throw err;
	return fail(err.status, { ...data, errors: formErrors(err) });
}
