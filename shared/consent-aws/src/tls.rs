//! The HTTPS client every AWS client uses, and which certificate authorities it trusts.
//!
//! The deployed functions talk to AWS only, whose endpoints all chain to Amazon Trust
//! Services' roots: with `TRUSTED_ROOTS=amazon` (`infra/template.yaml`) they trust those five
//! roots, compiled in, and nothing is read or parsed at cold start beyond them. Parsing a
//! system bundle's 140-odd certificates cost 1.0-1.9 ms of every cold start.
//!
//! Anywhere else (the local server in `--aws` mode, the tests, an endpoint of another
//! provider) the SDK's default stands: `rustls-native-certs` trusts the platform's roots, once
//! per process. Left to itself that loader reads the system's CA bundle file and then every
//! file of the certificate directories (on Debian, 290 files); `SSL_CERT_FILE` makes it read
//! that one file. A wrong `SSL_CERT_FILE` would leave it with no roots and fail every AWS
//! call, so it is checked first: if it (or `SSL_CERT_DIR`) names nothing, the first system
//! bundle that exists is trusted instead, as PEM, and the mistake is logged.

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

/// The variable naming the roots to trust: `amazon` for [`AMAZON_ROOTS`]; unset, the system's.
pub const TRUSTED_ROOTS: &str = "TRUSTED_ROOTS";

/// Amazon Root CA 1-4 and the Starfield Services root that cross-signs them, as PEM (the file
/// lists their fingerprints).
pub const AMAZON_ROOTS: &[u8] = include_bytes!("amazon-roots.pem");

/// Where the roots come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RootSource {
    /// [`AMAZON_ROOTS`] alone (`TRUSTED_ROOTS=amazon`).
    Amazon,
    /// The SDK's default: `rustls-native-certs` (`SSL_CERT_FILE`/`SSL_CERT_DIR` if set, else
    /// the system's files and directories), loaded once per process.
    Native,
    /// One CA bundle file, because `SSL_CERT_FILE`/`SSL_CERT_DIR` name nothing that exists.
    Bundle(String),
}

/// The roots to trust: Amazon's if `TRUSTED_ROOTS` says so; else the native loader, unless
/// `SSL_CERT_FILE` or `SSL_CERT_DIR` is set and names nothing; then the first bundle of
/// `candidates` that exists (the native loader, if none).
pub fn root_source(candidates: &[&str], env: impl Fn(&str) -> Option<String>) -> RootSource {
    match env(TRUSTED_ROOTS).as_deref().map(str::trim) {
        Some("amazon") => return RootSource::Amazon,
        None | Some("") => {}
        Some(other) => tracing::error!(
            trusted_roots = other,
            "TRUSTED_ROOTS is not `amazon`; trusting the system's roots"
        ),
    }
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
    if *source == RootSource::Amazon {
        return TrustStore::empty().with_pem_certificate(AMAZON_ROOTS);
    }
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
/// trusting Amazon's roots or the one bundle.
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
    fn trusted_roots_amazon_chooses_the_compiled_in_roots() {
        let amazon = |name: &str| (name == TRUSTED_ROOTS).then(|| "amazon".to_string());
        assert_eq!(root_source(CA_BUNDLES, amazon), RootSource::Amazon);
        // Any other value is a mistake: logged, and the system's roots are trusted.
        let other = |name: &str| (name == TRUSTED_ROOTS).then(|| "mozilla".to_string());
        assert_eq!(root_source(CA_BUNDLES, other), RootSource::Native);
    }

    #[test]
    fn the_compiled_in_roots_are_amazons_five_as_mozilla_has_them() {
        assert_eq!(usable_anchors(AMAZON_ROOTS), Ok(5));
        let embedded: Vec<CertificateDer<'_>> = CertificateDer::pem_slice_iter(AMAZON_ROOTS)
            .collect::<Result<_, _>>()
            .unwrap();
        // Debian's ca-certificates holds Mozilla's root store one certificate per file.
        let mozilla = Path::new("/usr/share/ca-certificates/mozilla");
        for (der, name) in embedded.iter().zip([
            "Amazon_Root_CA_1",
            "Amazon_Root_CA_2",
            "Amazon_Root_CA_3",
            "Amazon_Root_CA_4",
            "Starfield_Services_Root_Certificate_Authority_-_G2",
        ]) {
            let path = mozilla.join(format!("{name}.crt"));
            let pem = std::fs::read(&path)
                .unwrap_or_else(|e| panic!("{} (Debian: ca-certificates): {e}", path.display()));
            let theirs = CertificateDer::from_pem_slice(&pem).unwrap();
            assert_eq!(der, &theirs, "{name}");
        }
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
    async fn a_client_over_a_bundle_or_amazons_roots_builds() {
        let bundle = CA_BUNDLES
            .iter()
            .find(|p| Path::new(p).is_file())
            .expect("a system CA bundle (Debian: the ca-certificates package)");
        for source in [RootSource::Bundle(bundle.to_string()), RootSource::Amazon] {
            client_over(&source);
        }
    }

    fn client_over(source: &RootSource) {
        let context = TlsContext::builder()
            .with_trust_store(trust_store(source))
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
