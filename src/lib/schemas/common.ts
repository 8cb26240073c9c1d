import { z } from 'zod';

/** Field-level messages people read next to a form field or in an API error's details. */
export const emailField = z.email({ error: 'Enter a valid email address.' }).max(254, 'Email is too long.');
export const usernameField = z
	.string({ error: 'Choose a username.' })
	.min(3, 'Username must be at least 3 characters.')
	.max(32, 'Username must be at most 32 characters.')
	.regex(/^[A-Za-z0-9_.-]+$/, 'Use letters, digits, dots, dashes and underscores only.');
export const passwordField = z
	.string({ error: 'Enter a password.' })
	.min(8, 'Password must be at least 8 characters.')
	.max(256, 'Password must be at most 256 characters.');

export const isoDate = z.iso.datetime({ offset: true });
export const uuid = z.uuid();

export const ErrorResponse = z
	.object({
		error: z.object({
			code: z.string().meta({ example: 'validation_error' }),
			message: z.string(),
			details: z.unknown().describe('Per-field messages under `fields` for validation errors; null when there is nothing to add.')
		})
	})
	.meta({ id: 'Error' });
