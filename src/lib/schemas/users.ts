import { z } from 'zod';
import { isoDate, passwordField, usernameField, uuid } from './common';

export const UserRole = z.enum(['user', 'admin']);

export const UserJson = z
	.object({
		id: uuid,
		email: z.string(),
		username: z.string(),
		role: UserRole,
		is_active: z.boolean(),
		created_at: isoDate,
		last_login_at: isoDate.nullable()
	})
	.meta({ id: 'User' });

export const QuotasJson = z
	.object({
		jobs_per_day: z.number().int(),
		storage_bytes: z.number().int(),
		provider_accounts: z.number().int()
	})
	.meta({ id: 'Quotas' });

export const UsageJson = z
	.object({
		day: z.string().describe('UTC day, YYYY-MM-DD'),
		jobs_created: z.number().int(),
		assets_created: z.number().int(),
		bytes_added: z.number().int(),
		storage_bytes_used: z.number().int()
	})
	.meta({ id: 'Usage' });

export const MeResponse = UserJson.extend({ quotas: QuotasJson, usage: UsageJson }).meta({ id: 'Me' });

export const UpdateMeRequest = z
	.object({
		username: usernameField.optional(),
		current_password: z.string().max(256).optional(),
		new_password: passwordField.optional()
	})
	.refine((v) => !v.new_password || !!v.current_password, {
		path: ['current_password'],
		message: 'Enter your current password to set a new one.'
	})
	.meta({ id: 'UpdateMeRequest' });

/** Quota overrides; null returns the user to the configured default. */
const quotaOverride = z.number().int().min(0).nullable().optional();

export const AdminUpdateUserRequest = z
	.object({
		role: UserRole.optional(),
		is_active: z.boolean().optional(),
		quotas: z
			.object({
				jobs_per_day: quotaOverride,
				storage_bytes: quotaOverride,
				provider_accounts: quotaOverride
			})
			.optional()
	})
	.meta({ id: 'AdminUpdateUserRequest' });

export const AdminUserJson = UserJson.extend({
	quotas: QuotasJson,
	quota_overrides: z.object({
		jobs_per_day: z.number().int().nullable(),
		storage_bytes: z.number().int().nullable(),
		provider_accounts: z.number().int().nullable()
	}),
	storage_bytes_used: z.number().int()
}).meta({ id: 'AdminUser' });

export const ListUsersQuery = z.object({
	page: z.coerce.number().int().min(1).default(1),
	per_page: z.coerce.number().int().min(1).max(100).default(25),
	q: z.string().trim().max(254).optional()
});

export const UserList = z
	.object({
		items: z.array(AdminUserJson),
		page: z.number().int(),
		per_page: z.number().int(),
		total: z.number().int()
	})
	.meta({ id: 'UserList' });
