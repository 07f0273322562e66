//! Small self-contained HTML pages with strict security headers (no scripts, no framing, no
//! referrer: the token in the URL must not leak to other sites).

use std::sync::LazyLock;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use sha2::{Digest, Sha256};

/// The pages' one stylesheet, inline so a page needs no second request. The CSP allows exactly
/// this text by its hash: a style changed or added anywhere else is refused by the browser.
/// On a phone the card keeps 1rem from the screen's edges (the body's padding); buttons take
/// the page's font, not the browser's default for controls; `.visually-hidden` text is read by
/// screen readers only.
const STYLE: &str = "
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;padding:0 1rem;background:#f5f6f8;color:#1d2330}
main{max-width:28rem;margin:1.5rem auto;padding:1.5rem;background:#fff;border-radius:12px;box-shadow:0 1px 4px rgba(0,0,0,.08)}
h1{font-size:1.3rem;margin-top:0}
button{font:inherit;font-size:1.1rem;padding:.8rem 1.2rem;width:100%;border:0;border-radius:8px;background:#1f5fd1;color:#fff;cursor:pointer;margin-top:.6rem}
button.secondary{background:#fff;color:#1d2330;border:1px solid #5b6476}
button:focus-visible,a:focus-visible{outline:3px solid #f0b400;outline-offset:2px}
a{color:#1f5fd1} ul{padding-left:1.2rem}
.muted{color:#5b6476;font-size:.9rem}
.visually-hidden{position:absolute;width:1px;height:1px;margin:-1px;padding:0;overflow:hidden;clip:rect(0,0,0,0);white-space:nowrap;border:0}
";

/// The pages' Content-Security-Policy: nothing but [`STYLE`] (by its SHA-256, not
/// `'unsafe-inline'`, so markup slipped into a page cannot style it either), forms posting back
/// to the same origin, no framing, no `<base>`.
static CSP: LazyLock<HeaderValue> = LazyLock::new(|| {
    let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(STYLE));
    let policy = format!(
        "default-src 'none'; style-src 'sha256-{hash}'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    );
    HeaderValue::from_str(&policy).expect("ASCII and base64 are valid in a header")
});

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
        headers.insert(header::CONTENT_SECURITY_POLICY, CSP.clone());
        for (name, value) in [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
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
<style>{STYLE}</style></head>
<body><main><h1>{title}</h1>
{body_html}
</main></body></html>"#
    );
    Page { status, html }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What a browser hashes: the text between `<style>` and `</style>`, exactly.
    fn inline_styles(html: &str) -> Vec<&str> {
        html.split("<style>")
            .skip(1)
            .map(|rest| rest.split_once("</style>").map_or(rest, |(style, _)| style))
            .collect()
    }

    #[test]
    fn the_csp_allows_the_pages_own_style_by_its_hash_and_nothing_inline_besides() {
        let page = html_page(StatusCode::OK, "A <title>", "<p>body</p>");
        let html = page.html.clone();
        let response = page.into_response();
        let csp = response.headers()[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap_or_else(|e| panic!("{e}"))
            .to_string();
        let styles = inline_styles(&html);
        assert_eq!(styles.len(), 1, "{html}");
        let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(styles[0]));
        assert!(
            csp.contains(&format!("style-src 'sha256-{hash}';")),
            "{csp}"
        );
        assert!(!csp.contains("unsafe"), "{csp}");
        assert!(!csp.contains("script-src"), "{csp}");
        assert!(csp.starts_with("default-src 'none';"), "{csp}");
        assert!(!html.contains(" style="), "{html}");
    }
}
