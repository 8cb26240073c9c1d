import { ApiTokenList, CreateApiTokenRequest, CreatedApiToken } from '$lib/schemas/auth';
import { createApiToken, listApiTokens } from '$lib/server/auth/api-tokens';
import { apiTokenJson } from '$lib/server/auth/json';
import { endpoint, operation } from '$lib/server/http/endpoint';
import { db } from '$lib/server/runtime';

export const _operations = {
	GET: operation({
		summary: 'List my API tokens',
		tags: ['auth'],
		auth: 'user',
		success: { status: 200, description: 'Tokens, newest first (never their secret)', schema: ApiTokenList }
	}),
	POST: operation({
		summary: 'Create a personal API token',
		description: 'The token is in this answer only; it is stored as a hash.',
		tags: ['auth'],
		auth: 'user',
		body: CreateApiTokenRequest,
		success: { status: 201, description: 'Created', schema: CreatedApiToken }
	})
};

export const GET = endpoint(_operations.GET, async ({ user }) => ({
	items: (await listApiTokens(db(), user.id)).map(apiTokenJson)
}));

export const POST = endpoint(_operations.POST, async ({ user, body, event }) => {
	const { token, apiToken } = await createApiToken(db(), user.id, { name: body.name, expiresInDays: body.expires_in_days });
	event.locals.log.info({ api_token_id: apiToken.id }, 'auth:token-created');
	return { ...apiTokenJson(apiToken), token };
});
