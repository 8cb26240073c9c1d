import type { ApiToken, Session, User } from '$lib/server/db/schema';
import type { Logger } from '$lib/server/logger';
import type { DayUsage } from '$lib/server/users/quotas';

declare global {
	namespace App {
		interface Error {
			message: string;
			code?: string;
		}
		interface Locals {
			requestId: string;
			log: Logger;
			user: User | null;
			/** The session behind this request (cookie or bearer session token). */
			session: Session | null;
			/** The personal API token behind this request, if it used one. */
			apiToken: ApiToken | null;
			/** The signed-in user's usage today, as read with the session (null when signed out). */
			usageToday: DayUsage | null;
		}
	}
}

export {};
