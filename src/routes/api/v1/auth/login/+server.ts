import { AuthResponse, LoginRequest } from '$lib/schemas/auth';
import { config } from '$lib/server/config';
import { loginUser } from '$lib/server/auth/service';
import { endpoint, operation } from '$lib/server/http/endpoint';
import { clientInfo } from '$lib/server/http/client-info';
import { db, loginLimiter } from '$lib/server/runtime';
import { userJson } from '$lib/server/users/json';

export const _operations = {
	POST: operation({
		summary: 'Sign in',
		description: 'Rate-limited per account and per IP address (429 with Retry-After). The message never says whether the email exists.',
		tags: ['auth'],
		auth: 'public',
		body: LoginRequest,
		success: { status: 200, description: 'Signed in', schema: AuthResponse },
		errors: ['unauthorized', 'forbidden', 'rate_limited']
	})
};

export const POST = endpoint(_operations.POST, async ({ body, event }) => {
	const { user, token } = await loginUser(db(), body, clientInfo(event), config(), loginLimiter());
	event.locals.log.info({ user_id: user.id }, 'auth:login');
	return { access_token: token, token_type: 'bearer' as const, user: userJson(user) };
});
