//! Certificates for TLS tests: a certificate authority made for the test,
//! and a server certificate it signs for `localhost` and `127.0.0.1`.

use std::path::{Path, PathBuf};

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};

/// Files of one test authority and the server certificate it issued.
#[derive(Debug, Clone)]
pub struct TestCa {
    /// The authority's certificate (PEM): what a client must trust.
    pub ca: PathBuf,
    /// The server's certificate (PEM).
    pub cert: PathBuf,
    /// The server's private key (PEM).
    pub key: PathBuf,
}

impl TestCa {
    /// Makes an authority called `name` and a server certificate, written
    /// to `dir` as `NAME-ca.pem`, `NAME-cert.pem` and `NAME-key.pem`.
    pub fn new(dir: &Path, name: &str) -> Self {
        let ca_key = KeyPair::generate().expect("CA key");
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(DnType::CommonName, format!("{name} test CA"));
        let ca_cert = ca_params.self_signed(&ca_key).expect("CA certificate");
        let issuer = Issuer::new(ca_params, ca_key);
        let server_key = KeyPair::generate().expect("server key");
        let server_params =
            CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
                .expect("server params");
        let server_cert = server_params
            .signed_by(&server_key, &issuer)
            .expect("server certificate");
        let files = Self {
            ca: dir.join(format!("{name}-ca.pem")),
            cert: dir.join(format!("{name}-cert.pem")),
            key: dir.join(format!("{name}-key.pem")),
        };
        std::fs::write(&files.ca, ca_cert.pem()).expect("write CA");
        std::fs::write(&files.cert, server_cert.pem()).expect("write certificate");
        std::fs::write(&files.key, server_key.serialize_pem()).expect("write key");
        files
    }
}
