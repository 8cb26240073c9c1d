import { z } from 'zod';
import { isoDate, uuid } from './common';

export const AccountStatusName = z.enum(['active', 'cooldown', 'exhausted', 'disabled']);

const labelField = z
	.string({ error: 'Give the account a label.' })
	.trim()
	.min(1, 'Give the account a label.')
	.max(100, 'Label is too long (at most 100 characters).');

/** Provider secrets as name → value, e.g. {"api_key": "..."}; never answered back. */
export const CredentialsField = z
	.record(
		z.string().regex(/^[a-z][a-z0-9_]{0,63}$/, 'Credential names are lower-case letters, digits and underscores (e.g. api_key).'),
		z.string().min(1, 'A credential value cannot be empty.').max(4096, 'A credential value is at most 4096 characters.'),
		{ error: 'Credentials must be an object of names to string values, e.g. {"api_key": "..."}.' }
	)
	.refine((c) => Object.keys(c).length <= 20, 'At most 20 credentials.');

/** Remaining credits per credit type; null when they are not tracked. */
export const CreditsField = z
	.record(
		z.string().regex(/^[a-z][a-z0-9_]{0,31}$/, 'Credit types are lower-case letters, digits and underscores (e.g. default).'),
		z.number({ error: 'Credits must be numbers.' }).min(0, 'Credits cannot be negative.').max(1e12, 'That is too many credits.'),
		{ error: 'Credits must be an object of credit types to numbers, e.g. {"default": 120}.' }
	)
	.nullable();

const priorityField = z.number().int('Priority is a whole number.').min(-100, 'Priority is at least -100.').max(100, 'Priority is at most 100.');
const maxConcurrentField = z
	.number()
	.int('Concurrent jobs is a whole number.')
	.min(1, 'Allow at least one job at a time.')
	.max(100, 'At most 100 jobs at a time.');

export const AccountJson = z
	.object({
		id: uuid,
		provider_id: z.string(),
		label: z.string(),
		owner_id: uuid.nullable().describe('Null for a shared account (used for everyone\'s jobs).'),
		shared: z.boolean(),
		can_manage: z.boolean().describe('Whether you may change or delete it (admins: all; users: their own).'),
		has_credentials: z.boolean(),
		credential_names: z.array(z.string()).describe('Names of the stored credentials; their values are never returned.'),
		credentials_hint: z
			.string()
			.nullable()
			.describe('The last 4 characters of the first credential, to tell keys apart; only for accounts you manage, and only for values of 12+ characters.'),
		priority: z.number().int(),
		status: AccountStatusName,
		credits: z.record(z.string(), z.number()).nullable(),
		max_concurrent_jobs: z.number().int(),
		current_jobs: z.number().int(),
		cooldown_until: isoDate.nullable(),
		last_used_at: isoDate.nullable(),
		success_count: z.number().int(),
		failure_count: z.number().int(),
		success_rate: z.number().nullable().describe('Successes ÷ finished attempts, 0..1; null before the first.'),
		avg_generation_sec: z.number().nullable(),
		last_error: z.string().nullable(),
		created_at: isoDate,
		updated_at: isoDate
	})
	.meta({ id: 'ProviderAccount' });

export const AccountList = z.object({ items: z.array(AccountJson) }).meta({ id: 'ProviderAccountList' });

export const CreateAccountRequest = z
	.object({
		provider_id: z.string({ error: 'Choose a provider.' }).min(1, 'Choose a provider.'),
		label: labelField,
		shared: z.boolean().default(false).describe('Admins only: a shared account serves everyone\'s jobs.'),
		credentials: CredentialsField,
		priority: priorityField.default(0),
		max_concurrent_jobs: maxConcurrentField.default(1),
		credits: CreditsField.default(null)
	})
	.meta({ id: 'CreateProviderAccountRequest' });

export const UpdateAccountRequest = z
	.object({
		label: labelField.optional(),
		priority: priorityField.optional(),
		status: z
			.enum(['active', 'disabled'], { error: 'Status is active or disabled.' })
			.optional()
			.describe('Enable (also ends a cooldown or exhaustion) or disable.'),
		credits: CreditsField.optional(),
		max_concurrent_jobs: maxConcurrentField.optional(),
		credentials: CredentialsField.optional().describe('Replaces all stored credentials.')
	})
	.meta({ id: 'UpdateProviderAccountRequest' });

export type CreateAccountInput = z.output<typeof CreateAccountRequest>;
export type UpdateAccountInput = z.output<typeof UpdateAccountRequest>;

// --- The accounts page's forms: strings in, the API's shapes out ---------------------------------

const blank = (value: unknown) => (typeof value === 'string' && value.trim() === '' ? undefined : value);

/**
 * Credits as typed in a box: blank → not tracked (null); "120" → {"default": 120};
 * "default=120, video=30" → both types.
 */
export const CreditsText = z
	.string()
	.trim()
	.transform((text, ctx): Record<string, number> | null => {
		if (text === '') return null;
		if (/^\d+(\.\d+)?$/.test(text)) return { default: Number(text) };
		const credits: Record<string, number> = {};
		for (const part of text.split(/[,\n]/).map((p) => p.trim()).filter(Boolean)) {
			const match = /^([a-z][a-z0-9_]{0,31})\s*[=:]\s*(\d+(?:\.\d+)?)$/.exec(part);
			if (!match) {
				ctx.addIssue({ code: 'custom', message: 'Enter a number, or type=number pairs such as "default=120, video=30".' });
				return z.NEVER;
			}
			credits[match[1]] = Number(match[2]);
		}
		return credits;
	});

/** Extra credentials, one name=value per line (the value may contain "="). */
const CredentialLines = z
	.string()
	.transform((text, ctx): Record<string, string> => {
		const credentials: Record<string, string> = {};
		for (const line of text.split('\n').map((l) => l.trim()).filter(Boolean)) {
			const at = line.indexOf('=');
			if (at <= 0) {
				ctx.addIssue({ code: 'custom', message: 'Write one name=value per line, e.g. region=eu.' });
				return z.NEVER;
			}
			credentials[line.slice(0, at).trim()] = line.slice(at + 1).trim();
		}
		return credentials;
	});

const formInt = (fallback: number) => z.preprocess((v) => blank(v) ?? fallback, z.coerce.number({ error: 'Enter a whole number.' }));

export const AddAccountForm = z
	.object({
		provider_id: z.string({ error: 'Choose a provider.' }).min(1, 'Choose a provider.'),
		label: labelField,
		api_key: z.string().trim().optional().default(''),
		other_credentials: CredentialLines.optional().default({}),
		priority: formInt(0).pipe(priorityField),
		max_concurrent_jobs: formInt(1).pipe(maxConcurrentField),
		credits: CreditsText.optional().transform((v) => v ?? null),
		shared: z
			.string()
			.optional()
			.transform((v) => v !== undefined)
	})
	// The API's own rules then check the credentials map; its messages keep their field paths.
	.transform(({ api_key, other_credentials, ...form }, ctx): CreateAccountInput => {
		const parsed = CreateAccountRequest.safeParse({ ...form, credentials: { ...(api_key ? { api_key } : {}), ...other_credentials } });
		if (parsed.success) return parsed.data;
		for (const issue of parsed.error.issues) ctx.addIssue({ code: 'custom', message: issue.message, path: issue.path });
		return z.NEVER;
	});

export const AccountStatusForm = z.object({ id: uuid, status: z.enum(['active', 'disabled'], { error: 'Choose active or disabled.' }) });

export const AccountCreditsForm = z.object({ id: uuid, credits: CreditsText.pipe(CreditsField) });

export const AccountIdForm = z.object({ id: uuid });
