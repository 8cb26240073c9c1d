import { z } from 'zod';
import { AccountJson, UpdateAccountRequest } from '$lib/schemas/accounts';
import { accountJson } from '$lib/server/accounts/json';
import { deleteAccount, getAccount, updateAccount } from '$lib/server/accounts/service';
import { config } from '$lib/server/config';
import { endpoint, operation } from '$lib/server/http/endpoint';
import { db } from '$lib/server/runtime';

const params = z.object({ id: z.uuid() });

export const _operations = {
	GET: operation({
		summary: 'A provider account',
		description: "A shared account or one of yours (admins: any). Another user's private account answers 404.",
		tags: ['accounts'],
		auth: 'user',
		params,
		success: { status: 200, description: 'The account', schema: AccountJson },
		errors: ['not_found']
	}),
	PATCH: operation({
		summary: 'Change a provider account',
		description:
			'Label, priority, status (active | disabled; enabling also ends a cooldown or exhaustion), credits, max_concurrent_jobs, credentials (replaced). ' +
			'Shared accounts: admins only (403).',
		tags: ['accounts'],
		auth: 'user',
		params,
		body: UpdateAccountRequest,
		success: { status: 200, description: 'The updated account', schema: AccountJson },
		errors: ['not_found', 'forbidden']
	}),
	DELETE: operation({
		summary: 'Delete a provider account',
		description: 'Refused (409) while the account runs jobs: disable it, and delete it once they finish. Shared accounts: admins only (403).',
		tags: ['accounts'],
		auth: 'user',
		params,
		success: { status: 204, description: 'Deleted' },
		errors: ['not_found', 'forbidden', 'conflict']
	})
};

export const GET = endpoint(_operations.GET, async ({ user, params }) => accountJson(await getAccount(db(), user, params.id), user, config()));

export const PATCH = endpoint(_operations.PATCH, async ({ user, params, body }) =>
	accountJson(await updateAccount(db(), config(), user, params.id, body), user, config())
);

export const DELETE = endpoint(_operations.DELETE, async ({ user, params }) => {
	await deleteAccount(db(), user, params.id);
});
