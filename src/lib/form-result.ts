/** What a form action hands back to its page, as the parts of the page read it. */
export interface FormResult {
	values?: Record<string, string>;
	/** Messages by field name; "_" holds those about the whole form. */
	errors?: Record<string, string[] | undefined>;
	success?: string;
}
