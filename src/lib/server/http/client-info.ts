import type { RequestEvent } from '@sveltejs/kit';
import type { ClientInfo } from '../auth/sessions';

/** Where a request came from, as stored on its session. */
export function clientInfo(event: RequestEvent): ClientInfo {
	let ipAddress: string | null = null;
	try {
		ipAddress = event.getClientAddress();
	} catch {
		// Not available in every adapter context; the session simply records no address.
	}
	return { ipAddress, userAgent: event.request.headers.get('user-agent') };
}
