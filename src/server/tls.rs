//! The embedded server's TLS (`serve --tls`): a self-signed certificate made at start with
//! rcgen, written where the clients can read it, and the rustls server settings that serve it.
//!
//! The certificate names `localhost`, `127.0.0.1`, `::1`, the bound address when it is not a
//! wildcard, and every `--cert-name`, so a client that trusts exactly this certificate can
//! verify it by whatever name or address it used. Verification is never turned off anywhere:
//! a client is given this certificate as its only root.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// A certificate and its key, made for one server's run.
pub struct Identity {
    /// The certificate, PEM, as written for the clients.
    pub cert_pem: String,
    cert_der: CertificateDer<'static>,
    key_der: Vec<u8>,
}

/// Makes a self-signed certificate for `bind` and the extra `names` (host names or addresses).
pub fn identity(bind: SocketAddr, names: &[String]) -> anyhow::Result<Identity> {
    let mut sans: Vec<String> = vec!["localhost".into(), "127.0.0.1".into(), "::1".into()];
    if !bind.ip().is_unspecified() {
        sans.push(bind.ip().to_string());
    }
    for name in names {
        if !sans.contains(name) {
            sans.push(name.clone());
        }
    }
    let made = rcgen::generate_simple_self_signed(sans)
        .context("could not make the server's certificate")?;
    Ok(Identity {
        cert_pem: made.cert.pem(),
        cert_der: made.cert.der().clone(),
        key_der: made.signing_key.serialize_der(),
    })
}

impl Identity {
    /// The rustls settings that serve this certificate, HTTP/1.1 only, on ring (as every
    /// client here).
    pub fn server_config(&self) -> anyhow::Result<Arc<rustls::ServerConfig>> {
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.key_der.clone()));
        let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .context("ring supports the default TLS versions")?
        .with_no_client_auth()
        .with_single_cert(vec![self.cert_der.clone()], key)
        .context("rustls refused the server's own certificate")?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Arc::new(config))
    }

    /// Writes the certificate (PEM) to `path` as every output is written: atomically, never
    /// through a symlink.
    pub fn write_cert(&self, path: &Path) -> anyhow::Result<()> {
        crate::files::write(path, self.cert_pem.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_certificate_is_made_for_loopback_and_the_names_given() {
        let id = identity("0.0.0.0:0".parse().unwrap(), &["study.example".into()]).unwrap();
        assert!(id.cert_pem.starts_with("-----BEGIN CERTIFICATE-----"));
        assert!(id.server_config().is_ok());
        let der = id.cert_der.as_ref();
        // The names are in the certificate's subjectAltName as they were given.
        let has = |needle: &[u8]| der.windows(needle.len()).any(|w| w == needle);
        assert!(has(b"localhost") && has(b"study.example"));
        assert!(has(&[127, 0, 0, 1]));
    }
}
