/**
 * Every provider PixSim7 can use, by id. Adding a provider is one line here plus its folder.
 */
import { config } from '../config';
import { NotFoundError } from '../errors';
import { createLocalProvider, localProviderSettings } from './local';
import { pixverse } from './pixverse';
import type { OperationType, Provider } from './types';

/** The local renderer follows the process's configuration, read when it is first used. */
let localSettings: ReturnType<typeof localProviderSettings> | undefined;
const local = createLocalProvider(() => (localSettings ??= localProviderSettings(config())));

const providers: Provider[] = [local, pixverse];

export function listProviders(): readonly Provider[] {
	return providers;
}

export function findProvider(id: string): Provider | undefined {
	return providers.find((p) => p.id === id);
}

/** The provider, or 404 for an id nobody registered. */
export function getProvider(id: string): Provider {
	const provider = findProvider(id);
	if (!provider) throw new NotFoundError(`No provider "${id}".`);
	return provider;
}

export function providersFor(operation: OperationType): Provider[] {
	return providers.filter((p) => p.operations[operation]);
}
