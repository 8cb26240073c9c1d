/** An account's id and decrypted credentials, for a stage resuming work on an account it reserved earlier. */
import { eq } from 'drizzle-orm';
import { credentialsKey, decryptCredentials } from '../accounts/crypto';
import type { Config } from '../config';
import type { DbOrTx } from '../db/client';
import { providerAccounts } from '../db/schema';
import type { AccountContext } from '../providers/types';

export interface LoadedAccount {
	context: AccountContext;
	label: string;
}

export async function loadAccount(db: DbOrTx, config: Config, accountId: string | null): Promise<LoadedAccount | null> {
	if (!accountId) return null;
	const [row] = await db
		.select({ id: providerAccounts.id, label: providerAccounts.label, blob: providerAccounts.credentialsEncrypted })
		.from(providerAccounts)
		.where(eq(providerAccounts.id, accountId));
	if (!row) return null;
	return { context: { id: row.id, credentials: decryptCredentials(credentialsKey(config), row.blob) }, label: row.label };
}
