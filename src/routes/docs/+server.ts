/** The interactive API reference: Swagger UI (served from the swagger-ui-dist package, no CDN). */
export const GET = () =>
	new Response(
		`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8" />
<meta name="viewport" content="width=device-width, initial-scale=1" />
<title>PixSim7 API reference</title>
<link rel="stylesheet" href="/docs/swagger-ui.css" />
</head>
<body>
<div id="swagger-ui"></div>
<script src="/docs/swagger-ui-bundle.js"></script>
<script src="/docs/init.js"></script>
</body>
</html>`,
		{ headers: { 'content-type': 'text/html; charset=utf-8' } }
	);
