//! What every https client of a run trusts ([`Trust`]), and that trust as each client takes
//! it: one rustls `ClientConfig` for reqwest and the hyper clients, ureq's `TlsConfig` for ureq.
//!
//! Without a certificate a client trusts the Mozilla roots (webpki-roots), as it needs to for
//! real pages. With one (the embedded server's, or `--server-cert`) it trusts that certificate
//! and nothing else: no built-in roots, no platform verifier, and verification is never turned
//! off. A server whose certificate it was not given fails the handshake, which is counted as a
//! `tls` failure.

use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use serde::{Deserialize, Serialize};

/// What the https clients of a run trust.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Trust {
    /// The one certificate (DER) trusted; `None` trusts the Mozilla roots.
    pub only: Option<Vec<u8>>,
}

/// Most bytes a certificate file may have: a PEM certificate is a few KiB.
const CERT_LIMIT: u64 = 1 << 20;

impl Trust {
    /// The Mozilla roots, for real pages.
    pub fn public_roots() -> Trust {
        Trust { only: None }
    }

    /// Exactly the first certificate of the PEM file at `path`; the message is the reason.
    pub fn read(path: &Path) -> Result<Trust, String> {
        let pem = crate::files::read_bounded(path, CERT_LIMIT)?;
        let cert = CertificateDer::pem_slice_iter(&pem)
            .next()
            .ok_or("no PEM certificate in it")?
            .map_err(|e| format!("not a PEM certificate: {e}"))?;
        // Parsed once here, so a file that is not a certificate is refused before any work.
        let mut roots = rustls::RootCertStore::empty();
        roots
            .add(cert.clone())
            .map_err(|e| format!("not a certificate rustls can trust: {e}"))?;
        Ok(Trust {
            only: Some(cert.as_ref().to_vec()),
        })
    }

    /// The rustls settings of the reqwest and hyper clients: ring, HTTP/1.1, these roots.
    pub fn rustls_config(&self) -> Arc<rustls::ClientConfig> {
        let roots = match &self.only {
            Some(der) => {
                let mut roots = rustls::RootCertStore::empty();
                // Checked by `read`; a certificate that fails here fails every handshake.
                let _ = roots.add(CertificateDer::from(der.clone()));
                roots
            }
            None => rustls::RootCertStore {
                roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
            },
        };
        let mut config = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .expect("ring supports the default TLS versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Arc::new(config)
    }

    /// ureq's TLS settings with the same roots.
    pub fn ureq_config(&self) -> ureq::tls::TlsConfig {
        let roots =
            match &self.only {
                Some(der) => ureq::tls::RootCerts::new_with_certs(&[
                    ureq::tls::Certificate::from_der(der).to_owned(),
                ]),
                None => ureq::tls::RootCerts::WebPki,
            };
        ureq::tls::TlsConfig::builder().root_certs(roots).build()
    }
}
