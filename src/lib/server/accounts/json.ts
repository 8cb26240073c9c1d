import type { ProviderAccount, User } from '../db/schema';
import { credentialsKey, decryptCredentials } from './crypto';
import type { Config } from '../config';

/** Who may change an account: admins any; a user only their own private ones. */
export function canManageAccount(viewer: Pick<User, 'id' | 'role'>, account: Pick<ProviderAccount, 'ownerId'>): boolean {
	return viewer.role === 'admin' || (account.ownerId !== null && account.ownerId === viewer.id);
}

/**
 * An account as the API and pages show it. The credentials never leave: only their names, and to
 * someone who manages the account, the last 4 characters of a long first value (enough to tell
 * two keys apart, too little to use).
 */
export function accountJson(account: ProviderAccount, viewer: Pick<User, 'id' | 'role'>, config: Config) {
	const manage = canManageAccount(viewer, account);
	const { names, hint } = credentialSummary(account, config, manage);
	const finished = account.successCount + account.failureCount;
	return {
		id: account.id,
		provider_id: account.providerId,
		label: account.label,
		owner_id: account.ownerId,
		shared: account.ownerId === null,
		can_manage: manage,
		has_credentials: names.length > 0,
		credential_names: names,
		credentials_hint: hint,
		priority: account.priority,
		status: account.status,
		credits: account.credits,
		max_concurrent_jobs: account.maxConcurrentJobs,
		current_jobs: account.currentJobs,
		cooldown_until: account.cooldownUntil?.toISOString() ?? null,
		last_used_at: account.lastUsedAt?.toISOString() ?? null,
		success_count: account.successCount,
		failure_count: account.failureCount,
		success_rate: finished > 0 ? account.successCount / finished : null,
		avg_generation_sec: account.avgGenerationSec,
		last_error: account.lastError,
		created_at: account.createdAt.toISOString(),
		updated_at: account.updatedAt.toISOString()
	};
}

export type AccountView = ReturnType<typeof accountJson>;

function credentialSummary(account: ProviderAccount, config: Config, manage: boolean): { names: string[]; hint: string | null } {
	let credentials: Record<string, string>;
	try {
		credentials = decryptCredentials(credentialsKey(config), account.credentialsEncrypted);
	} catch {
		// Unreadable under this key: the account is unusable until they are entered again.
		return { names: [], hint: null };
	}
	const names = Object.keys(credentials).sort();
	const first = Object.values(credentials)[0];
	return { names, hint: manage && first && first.length >= 12 ? first.slice(-4) : null };
}
