/**
 * Whether the page's script has taken the page over. False in the server's HTML and until then:
 * a button that only works from script renders disabled rather than swallowing a click made
 * before (a slow device, a busy machine). The root layout flips it once, on mount; effects never
 * run on the server, so there it stays false for every request.
 */
let hydrated = $state(false);

export const hydration = {
	get done(): boolean {
		return hydrated;
	}
};

export function markHydrated(): void {
	hydrated = true;
}
