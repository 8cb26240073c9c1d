/** Users as the JSON API and the pages see them: snake_case, no password hash. */
import type { User } from '../db/schema';
import { effectiveQuotas, type DayUsage, type QuotaDefaults, type Quotas } from './quotas';
import { quotaOverrides, type Account } from './service';

export function userJson(user: User) {
	return {
		id: user.id,
		email: user.email,
		username: user.username,
		role: user.role,
		is_active: user.isActive,
		created_at: user.createdAt.toISOString(),
		last_login_at: user.lastLoginAt?.toISOString() ?? null
	};
}

export function quotasJson(q: Quotas) {
	return { jobs_per_day: q.jobsPerDay, storage_bytes: q.storageBytes, provider_accounts: q.providerAccounts };
}

export function usageJson(usage: DayUsage, storageBytesUsed: number) {
	return {
		day: usage.day,
		jobs_created: usage.jobsCreated,
		assets_created: usage.assetsCreated,
		bytes_added: usage.bytesAdded,
		storage_bytes_used: storageBytesUsed
	};
}

export function accountJson(account: Account) {
	return {
		...userJson(account.user),
		quotas: quotasJson(account.quotas),
		usage: usageJson(account.usage, account.user.storageBytesUsed)
	};
}

export function adminUserJson(user: User, defaults: QuotaDefaults) {
	return {
		...userJson(user),
		quotas: quotasJson(effectiveQuotas(user, defaults)),
		quota_overrides: quotaOverrides(user),
		storage_bytes_used: user.storageBytesUsed
	};
}
