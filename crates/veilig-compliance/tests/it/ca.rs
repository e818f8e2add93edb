//! The device CA on its own: what it signs and what it refuses.

use veilig_compliance::{CaError, DeviceCa};
use x509_parser::prelude::*;

use super::{START, csr, pem_der};

#[test]
fn the_server_certificate_names_the_agent_address_and_serves_only_servers() {
    let ca = DeviceCa::generate("Gemeente Test", START).unwrap();
    let (cert, key) = ca.issue_server(&["veilig.gemeente.nl".into(), "192.0.2.10".into()], START, 365).unwrap();
    assert!(key.contains("PRIVATE KEY"));
    let der = pem_der(&cert);
    let (_, c) = X509Certificate::from_der(&der).unwrap();
    let san = c.subject_alternative_name().unwrap().unwrap();
    let names: Vec<String> = san.value.general_names.iter().map(|g| format!("{g}")).collect();
    assert!(names.iter().any(|n| n.contains("veilig.gemeente.nl")), "{names:?}");
    assert!(names.iter().any(|n| n == "IPAddress(c0:00:02:0a)"), "{names:?}");
    let eku = c.extended_key_usage().unwrap().unwrap().value;
    assert!(eku.server_auth && !eku.client_auth);
    let der_1 = pem_der(ca.cert_pem());
    let (_, ca_cert) = X509Certificate::from_der(&der_1).unwrap();
    assert!(ca_cert.is_ca());
    c.verify_signature(Some(ca_cert.public_key())).unwrap();
}

#[test]
fn the_ca_survives_a_round_trip_through_pem_and_refuses_bad_requests() {
    let ca = DeviceCa::generate("", START).unwrap();
    let back = DeviceCa::from_pem(ca.cert_pem(), &ca.key_pem()).unwrap();
    let issued = back.issue_device(&csr("laptop"), "dev-1", START, 30).unwrap();
    let der_2 = pem_der(&issued.pem);
    let (_, cert) = X509Certificate::from_der(&der_2).unwrap();
    let der_3 = pem_der(ca.cert_pem());
    let (_, ca_cert) = X509Certificate::from_der(&der_3).unwrap();
    cert.verify_signature(Some(ca_cert.public_key())).unwrap();
    assert_eq!(issued.serial.len(), 32);
    // a request whose signature does not match its key
    let good = csr("laptop");
    let mut der = pem_der(&good);
    let last = der.len() - 3;
    der[last] ^= 0xff;
    let tampered = format!("-----BEGIN CERTIFICATE REQUEST-----\n{}\n-----END CERTIFICATE REQUEST-----\n", base64_lines(&der));
    assert!(matches!(ca.issue_device(&tampered, "dev-2", START, 30), Err(CaError::Request)));
    assert!(matches!(ca.issue_device("not a request", "dev-3", START, 30), Err(CaError::Request)));
    assert!(matches!(ca.issue_device(&"A".repeat(10_000), "dev-4", START, 30), Err(CaError::Request)));
    assert!(DeviceCa::from_pem(ca.cert_pem(), "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n").is_err());
}

fn base64_lines(der: &[u8]) -> String {
    use base64::Engine;
    let text = base64::engine::general_purpose::STANDARD.encode(der);
    text.as_bytes().chunks(64).map(|c| String::from_utf8_lossy(c).into_owned()).collect::<Vec<_>>().join("\n")
}
