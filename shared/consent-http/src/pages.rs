//! Small self-contained HTML pages with strict security headers (no scripts, no framing, no
//! referrer: the token in the URL must not leak to other sites).

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// An HTML page with a status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    /// HTTP status.
    pub status: StatusCode,
    /// The whole document.
    pub html: String,
}

impl IntoResponse for Page {
    fn into_response(self) -> Response {
        let mut response = (self.status, self.html).into_response();
        let headers = response.headers_mut();
        for (name, value) in [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
            ),
            (header::REFERRER_POLICY, "no-referrer"),
            (header::X_FRAME_OPTIONS, "DENY"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::CACHE_CONTROL, "no-store"),
        ] {
            headers.insert(name, HeaderValue::from_static(value));
        }
        response
    }
}

/// Escapes text for HTML.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// A mobile-friendly page: `title` and `body_html` (already escaped by the caller).
pub fn html_page(status: StatusCode, title: &str, body_html: &str) -> Page {
    let title = escape(title);
    let html = format!(
        r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
body{{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;background:#f5f6f8;color:#1d2330}}
main{{max-width:28rem;margin:3rem auto;padding:1.5rem;background:#fff;border-radius:12px;box-shadow:0 1px 4px rgba(0,0,0,.08)}}
h1{{font-size:1.3rem;margin-top:0}}
button{{font-size:1.1rem;padding:.8rem 1.2rem;width:100%;border:0;border-radius:8px;background:#1f5fd1;color:#fff;cursor:pointer;margin-top:.6rem}}
button.secondary{{background:#fff;color:#1d2330;border:1px solid #5b6476}}
button:focus-visible,a:focus-visible{{outline:3px solid #f0b400;outline-offset:2px}}
a{{color:#1f5fd1}} ul{{padding-left:1.2rem}}
.muted{{color:#5b6476;font-size:.9rem}}
</style></head>
<body><main><h1>{title}</h1>
{body_html}
</main></body></html>"#
    );
    Page { status, html }
}
