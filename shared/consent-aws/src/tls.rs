//! The HTTPS client every AWS client uses, and which certificate authorities it trusts.
//!
//! The SDK's default client trusts the platform's roots through `rustls-native-certs`, once per
//! process. Left to itself that loader reads the system's CA bundle file and then every file of
//! the certificate directories (`/etc/ssl/certs`, `/etc/pki/tls/certs`: on Debian, 290 files),
//! all at cold start: 8.5 ms here, against 3.3 ms for the bundle alone. `SSL_CERT_FILE` makes it
//! read that one file, so the deployed functions set it (`infra/template.yaml`).
//!
//! A wrong `SSL_CERT_FILE` would leave the loader with no roots and fail every AWS call, so it
//! is checked first: if it (or `SSL_CERT_DIR`) names nothing, the first system bundle that
//! exists is trusted instead, as PEM, and the mistake is logged.

use std::path::Path;

use aws_smithy_http_client::Builder;
use aws_smithy_http_client::tls::rustls_provider::CryptoMode;
use aws_smithy_http_client::tls::{self, TlsContext, TrustStore};
use aws_smithy_runtime_api::client::http::SharedHttpClient;
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;

/// The system CA bundles, by distribution: Amazon Linux (Lambda's `provided.al2023`) and
/// Fedora first, then Debian, Ubuntu and Alpine.
pub const CA_BUNDLES: &[&str] = &[
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/certs/ca-certificates.crt",
];

/// Where the roots come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RootSource {
    /// The SDK's default: `rustls-native-certs` (`SSL_CERT_FILE`/`SSL_CERT_DIR` if set, else
    /// the system's files and directories), loaded once per process.
    Native,
    /// One CA bundle file, because `SSL_CERT_FILE`/`SSL_CERT_DIR` name nothing that exists.
    Bundle(String),
}

/// The roots to trust: the native loader, unless `SSL_CERT_FILE` or `SSL_CERT_DIR` is set and
/// names nothing; then the first bundle of `candidates` that exists (the native loader, if none).
pub fn root_source(candidates: &[&str], env: impl Fn(&str) -> Option<String>) -> RootSource {
    let file = env("SSL_CERT_FILE").filter(|v| !v.is_empty());
    let dir = env("SSL_CERT_DIR").filter(|v| !v.is_empty());
    if file.is_none() && dir.is_none() {
        return RootSource::Native;
    }
    let file_found = file.as_deref().is_some_and(|f| Path::new(f).is_file());
    let dir_found = dir
        .as_deref()
        .is_some_and(|d| d.split(':').any(|d| Path::new(d).is_dir()));
    if file_found || dir_found {
        return RootSource::Native;
    }
    tracing::error!(
        ssl_cert_file = file.as_deref().unwrap_or(""),
        ssl_cert_dir = dir.as_deref().unwrap_or(""),
        "SSL_CERT_FILE/SSL_CERT_DIR name nothing that exists; trusting the system bundle"
    );
    candidates
        .iter()
        .find(|path| Path::new(path).is_file())
        .map_or(RootSource::Native, |path| {
            RootSource::Bundle(path.to_string())
        })
}

/// The trust store for `source`. A bundle that cannot be read, holds no certificate, or holds
/// one that is not a usable trust anchor is not used (the TLS library panics on a certificate
/// it cannot use when it builds a connection, where the native loader skips it): the native
/// loader gets its chance instead, and the warning says why.
pub fn trust_store(source: &RootSource) -> TrustStore {
    if let RootSource::Bundle(path) = source {
        match std::fs::read(path) {
            Ok(pem) => match usable_anchors(&pem) {
                Ok(_) => return TrustStore::empty().with_pem_certificate(pem),
                Err(problem) => {
                    tracing::warn!(path, problem, "CA bundle not used; using native roots")
                }
            },
            Err(error) => {
                tracing::warn!(path, %error, "cannot read the CA bundle; using native roots")
            }
        }
    }
    TrustStore::default()
}

/// How many certificates the PEM bundle holds, if every one is a usable trust anchor.
pub fn usable_anchors(pem: &[u8]) -> Result<usize, &'static str> {
    let mut count = 0;
    for der in CertificateDer::pem_slice_iter(pem) {
        let der = der.map_err(|_| "a PEM section does not parse")?;
        webpki::anchor_from_trusted_cert(&der)
            .map_err(|_| "a certificate is not a trust anchor")?;
        count += 1;
    }
    if count == 0 {
        return Err("no certificate");
    }
    Ok(count)
}

/// The HTTPS client to give the SDK config: `None` to keep the SDK's default (the native
/// loader, [`RootSource::Native`]); otherwise rustls with aws-lc, the default's provider,
/// trusting the one bundle.
pub fn https_client() -> Option<SharedHttpClient> {
    let source = root_source(CA_BUNDLES, |name| std::env::var(name).ok());
    if source == RootSource::Native {
        return None;
    }
    let context = TlsContext::builder()
        .with_trust_store(trust_store(&source))
        .build()
        .inspect_err(|error| tracing::warn!(%error, "TLS context refused; using the SDK's default"))
        .ok()?;
    Some(
        Builder::new()
            .tls_provider(tls::Provider::Rustls(CryptoMode::AwsLc))
            .tls_context(context)
            .build_https(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_env(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn the_native_loader_is_kept_unless_the_environment_names_nothing() {
        let dir = std::env::temp_dir().join(format!("consent-tls-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let bundle = dir.join("bundle.crt");
        std::fs::write(&bundle, "").unwrap();
        let bundle = bundle.to_str().unwrap().to_string();
        let candidates = ["/nonexistent/ca.crt", bundle.as_str()];
        // Nothing set: the SDK's default.
        assert_eq!(root_source(&candidates, no_env), RootSource::Native);
        // Set, and there: the native loader reads just that.
        let file_set = |name: &str| (name == "SSL_CERT_FILE").then(|| bundle.clone());
        assert_eq!(root_source(&candidates, file_set), RootSource::Native);
        let dir_set = |name: &str| {
            (name == "SSL_CERT_DIR").then(|| format!("/nonexistent:{}", dir.display()))
        };
        assert_eq!(root_source(&candidates, dir_set), RootSource::Native);
        // Set, and not there: the first bundle that exists.
        let wrong =
            |name: &str| (name == "SSL_CERT_FILE").then(|| "/nonexistent/x.pem".to_string());
        assert_eq!(
            root_source(&candidates, wrong),
            RootSource::Bundle(bundle.clone())
        );
        assert_eq!(
            root_source(&["/nonexistent/ca.crt"], wrong),
            RootSource::Native
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn only_a_bundle_of_usable_anchors_is_trusted_alone() {
        assert_eq!(usable_anchors(b"garbage"), Err("no certificate"));
        assert!(
            usable_anchors(b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
                .is_err()
        );
        // This machine's own bundle, where there is one, is usable (CI runs on Debian).
        for path in CA_BUNDLES.iter().filter(|p| Path::new(p).is_file()) {
            let pem = std::fs::read(path).unwrap();
            assert!(usable_anchors(&pem).unwrap() > 10, "{path}");
        }
    }

    #[tokio::test]
    async fn a_client_over_a_bundle_builds() {
        let bundle = CA_BUNDLES
            .iter()
            .find(|p| Path::new(p).is_file())
            .expect("a system CA bundle (Debian: the ca-certificates package)");
        let context = TlsContext::builder()
            .with_trust_store(trust_store(&RootSource::Bundle(bundle.to_string())))
            .build()
            .unwrap();
        let client = Builder::new()
            .tls_provider(tls::Provider::Rustls(CryptoMode::AwsLc))
            .tls_context(context)
            .build_https();
        // Building an SDK client runs the connector set-up that parses the roots (and panics
        // on a certificate it cannot use).
        let sdk = aws_config::SdkConfig::builder()
            .http_client(client)
            .behavior_version(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new("us-east-1"))
            .build();
        let _client = aws_sdk_dynamodb::Client::new(&sdk);
    }
}
