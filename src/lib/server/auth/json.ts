import type { ApiToken, Session } from '../db/schema';

export function sessionJson(session: Session, currentSessionId: string | null) {
	return {
		id: session.id,
		ip_address: session.ipAddress,
		user_agent: session.userAgent,
		created_at: session.createdAt.toISOString(),
		last_seen_at: session.lastSeenAt.toISOString(),
		expires_at: session.expiresAt.toISOString(),
		current: session.id === currentSessionId
	};
}

export function apiTokenJson(token: ApiToken) {
	return {
		id: token.id,
		name: token.name,
		token_prefix: token.tokenPrefix,
		created_at: token.createdAt.toISOString(),
		last_used_at: token.lastUsedAt?.toISOString() ?? null,
		expires_at: token.expiresAt?.toISOString() ?? null
	};
}
