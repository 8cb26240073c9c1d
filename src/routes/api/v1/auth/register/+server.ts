import { AuthResponse, RegisterRequest } from '$lib/schemas/auth';
import { config } from '$lib/server/config';
import { registerUser } from '$lib/server/auth/service';
import { endpoint, operation } from '$lib/server/http/endpoint';
import { clientInfo } from '$lib/server/http/client-info';
import { db } from '$lib/server/runtime';
import { userJson } from '$lib/server/users/json';

export const _operations = {
	POST: operation({
		summary: 'Create an account',
		description: 'The first account becomes an administrator. Answers a bearer token for the new session.',
		tags: ['auth'],
		auth: 'public',
		body: RegisterRequest,
		success: { status: 201, description: 'Account created', schema: AuthResponse },
		errors: ['conflict']
	})
};

export const POST = endpoint(_operations.POST, async ({ body, event }) => {
	const { user, token } = await registerUser(db(), body, clientInfo(event), config());
	event.locals.log.info({ user_id: user.id, role: user.role }, 'auth:registered');
	return { user: userJson(user), access_token: token, token_type: 'bearer' as const };
});
