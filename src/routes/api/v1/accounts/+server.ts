import { z } from 'zod';
import { AccountJson, AccountList, CreateAccountRequest } from '$lib/schemas/accounts';
import { accountJson } from '$lib/server/accounts/json';
import { createAccount, listAccounts } from '$lib/server/accounts/service';
import { config } from '$lib/server/config';
import { endpoint, operation } from '$lib/server/http/endpoint';
import { db } from '$lib/server/runtime';

export const _operations = {
	GET: operation({
		summary: 'List provider accounts',
		description: 'Admins: every account. Users: the shared accounts and their own private ones. Credentials are never returned.',
		tags: ['accounts'],
		auth: 'user',
		query: z.object({ provider_id: z.string().min(1).optional() }),
		success: { status: 200, description: 'Accounts by provider, shared first', schema: AccountList }
	}),
	POST: operation({
		summary: 'Add a provider account',
		description:
			'A private account (yours, counted against your provider account quota: 429 quota_exceeded past it) or, for admins, a shared one (`shared: true`). ' +
			'provider_id must name a registered provider that uses accounts. Credentials are stored encrypted and never returned.',
		tags: ['accounts'],
		auth: 'user',
		body: CreateAccountRequest,
		success: { status: 201, description: 'Created', schema: AccountJson },
		errors: ['forbidden', 'quota_exceeded']
	})
};

export const GET = endpoint(_operations.GET, async ({ user, query }) => ({
	items: (await listAccounts(db(), user, { providerId: query.provider_id })).map((a) => accountJson(a, user, config()))
}));

export const POST = endpoint(_operations.POST, async ({ user, body }) =>
	accountJson(await createAccount(db(), config(), user, body), user, config())
);
