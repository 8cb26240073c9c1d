/**
 * The pages' forms, built from the same field rules as the JSON API. A form sends strings only,
 * so these schemas also turn blank boxes, checkboxes and sizes into what the services take.
 */
import { z } from 'zod';
import { gibToBytes } from '../format';
import { CreateApiTokenRequest } from './auth';
import { passwordField, usernameField, uuid } from './common';
import { UserRole } from './users';

export const ProfileForm = z.object({ username: z.string().trim().pipe(usernameField) });

export const PasswordForm = z.object({
	current_password: z
		.string({ error: 'Enter your current password.' })
		.min(1, 'Enter your current password.')
		.max(256, 'Password must be at most 256 characters.'),
	new_password: passwordField
});

export const ApiTokenForm = CreateApiTokenRequest.pick({ name: true });

/** A row's hidden id: sessions and API tokens are revoked by id. */
export const RowIdForm = z.object({ id: uuid });

/** A blank quota box means "the default" (null). */
const blankAsNull = (value: unknown) => (typeof value === 'string' && value.trim() === '' ? null : value);

const wholeNumber = z.coerce
	.number({ error: 'Enter a whole number.' })
	.int('Enter a whole number.')
	.min(0, 'Enter 0 or more.')
	.max(2_147_483_647, 'That number is too large.');

const gibibytes = z.coerce
	.number({ error: 'Enter a size in GiB, such as 10 or 2.5.' })
	.min(0, 'Enter 0 or more.')
	.max(1_000_000, 'That size is too large.');

/** One row of the admin's user table: role, status and quota overrides (storage in GiB). */
export const AdminUserForm = z
	.object({
		id: uuid,
		role: UserRole,
		// A checkbox: present when ticked, absent when not.
		is_active: z.string().optional().transform((value) => value !== undefined),
		jobs_per_day: z.preprocess(blankAsNull, wholeNumber.nullable()),
		storage_gib: z.preprocess(blankAsNull, gibibytes.nullable()),
		provider_accounts: z.preprocess(blankAsNull, wholeNumber.nullable())
	})
	.transform((form) => ({
		id: form.id,
		patch: {
			role: form.role,
			is_active: form.is_active,
			quotas: {
				jobs_per_day: form.jobs_per_day,
				storage_bytes: form.storage_gib === null ? null : gibToBytes(form.storage_gib),
				provider_accounts: form.provider_accounts
			}
		}
	}));
