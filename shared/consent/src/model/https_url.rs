//! Web addresses the service keeps or shows to contacts (a firm's privacy policy and terms, the
//! form a number was collected on): https only, so a page the service links to cannot be read or
//! altered on the way, and plain enough that no reader can take it for something else.

use crate::limits::MAX_URL_LEN;

/// Why a web address is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum InvalidUrl {
    /// Longer than [`MAX_URL_LEN`].
    #[error("is longer than {MAX_URL_LEN} characters")]
    TooLong,
    /// Not `https://` followed by a host.
    #[error("must be an https:// address with a host, such as https://firm.example/privacy")]
    NotHttps,
}

/// Checks an https address: `https://` (any case), a host of letters, digits, `-` and `.` with
/// an optional port, then any path, query or fragment; no spaces, control characters, quotes
/// or angle brackets, and no user name or password (`https://user@...`).
pub fn check_https_url(url: &str) -> Result<(), InvalidUrl> {
    if url.len() > MAX_URL_LEN {
        return Err(InvalidUrl::TooLong);
    }
    let Some(scheme) = url.get(..8) else {
        return Err(InvalidUrl::NotHttps);
    };
    if !scheme.eq_ignore_ascii_case("https://") {
        return Err(InvalidUrl::NotHttps);
    }
    let rest = &url[8..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (host, port) = match rest[..authority_end].split_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (&rest[..authority_end], None),
    };
    let host_ok = !host.is_empty()
        && !host.starts_with(['.', '-'])
        && !host.ends_with(['.', '-'])
        && host.contains('.')
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.');
    let port_ok =
        port.is_none_or(|p| !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit()));
    let chars_ok = !url
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '"' | '<' | '>' | '\\'));
    if host_ok && port_ok && chars_ok {
        Ok(())
    } else {
        Err(InvalidUrl::NotHttps)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_https_addresses_pass() {
        for good in [
            "https://hartwell.example/privacy",
            "HTTPS://hartwell.example",
            "https://www.hartwell.example:8443/terms?lang=en#sms",
            "https://intake.hartwell.example/form/2026?src=ad",
        ] {
            assert_eq!(check_https_url(good), Ok(()), "{good}");
        }
        for bad in [
            "http://hartwell.example/privacy",
            "javascript:alert(1)",
            "https://",
            "https:///privacy",
            "https://localhost/privacy",
            "https://user:pw@hartwell.example/",
            "https://hartwell.example/a b",
            "https://hartwell.example/\"><script>",
            "https://hartwell.example:port/",
            "https://-hartwell.example/",
            "hartwell.example/privacy",
            "ftp://hartwell.example",
            "",
        ] {
            assert_eq!(check_https_url(bad), Err(InvalidUrl::NotHttps), "{bad}");
        }
        let long = format!("https://hartwell.example/{}", "a".repeat(MAX_URL_LEN));
        assert_eq!(check_https_url(&long), Err(InvalidUrl::TooLong));
    }
}
