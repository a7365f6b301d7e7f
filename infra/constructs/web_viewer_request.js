// CloudFront Function (cloudfront-js-2.0) on every viewer request CloudFront forwards to the API.
//
// API Gateway only answers requests that name its own host, so the origin request policy drops the
// viewer's Host header; the pages still need the host the shopper used to check that a posted form
// comes from this site (talkshop.web.app.require_same_origin), hence X-Forwarded-Host. Whatever a
// viewer sent in that header is replaced.
//
// API Gateway returns a function's base64 body as bytes only when the first type the request accepts is
// a binary media type of the API (infra/constructs/api.py BINARY_MEDIA_TYPES); a browser following a
// link accepts text/html first, so a .pdf download (the chat history's export) asks for the PDF.
function handler(event) {
  var request = event.request;
  request.headers["x-forwarded-host"] = { value: request.headers.host.value };
  if (request.uri.endsWith(".pdf")) {
    request.headers["accept"] = { value: "application/pdf" };
  }
  return request;
}
