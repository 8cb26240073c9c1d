import adapter from '@sveltejs/adapter-node';
import { vitePreprocess } from '@sveltejs/vite-plugin-svelte';

/** @type {import('@sveltejs/kit').Config} */
const config = {
	preprocess: vitePreprocess(),
	kit: {
		adapter: adapter({ out: 'build' }),
		// Cross-site form posts are refused by our own hook (src/lib/server/http/cross-site.ts), which
		// applies SvelteKit's rule but lets bearer-authenticated scripts post multipart uploads.
		csrf: { trustedOrigins: ['*'] }
	}
};

export default config;
