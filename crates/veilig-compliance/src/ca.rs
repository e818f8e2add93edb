//! The installation's device CA: it signs the agents' certificate requests (client
//! certificates, one per device) and the agent endpoint's server certificate, so agents trust
//! only this CA and need no public PKI.

use rcgen::{
    BasicConstraints, CertificateParams, CertificateSigningRequestParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer,
    KeyPair, KeyUsagePurpose, SerialNumber,
};
use sha2::{Digest, Sha256};
use time::{Duration, OffsetDateTime};

#[derive(Debug, thiserror::Error)]
pub enum CaError {
    #[error("csr: not a PEM certificate request with a valid signature")]
    Request,
    #[error("the stored device CA cannot be read: {0}")]
    Stored(String),
    #[error("signing failed: {0}")]
    Sign(String),
}

/// A certificate just issued.
#[derive(Debug, Clone)]
pub struct Issued {
    pub pem: String,
    /// Lower-case hex of the serial number.
    pub serial: String,
    /// Lower-case hex SHA-256 of the DER: how the agent endpoint recognises the device.
    pub sha256: String,
    pub not_after: OffsetDateTime,
}

pub struct DeviceCa {
    cert_pem: String,
    key: KeyPair,
}

impl std::fmt::Debug for DeviceCa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DeviceCa(..)")
    }
}

/// The SHA-256 of a certificate's DER, as lower-case hex.
pub fn fingerprint(der: &[u8]) -> String {
    hex::encode(Sha256::digest(der))
}

fn serial() -> SerialNumber {
    use rand::RngCore;
    let mut bytes = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    bytes[0] &= 0x7f; // positive
    bytes[0] |= 0x01; // and 16 bytes long in DER
    SerialNumber::from_slice(&bytes)
}

impl DeviceCa {
    /// A new CA (ECDSA P-256), valid for 20 years from `now`.
    pub fn generate(organisation: &str, now: OffsetDateTime) -> Result<DeviceCa, CaError> {
        let key = KeyPair::generate().map_err(|e| CaError::Sign(e.to_string()))?;
        let mut params = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, "Veilig device CA");
        if !organisation.trim().is_empty() {
            dn.push(DnType::OrganizationName, organisation.trim());
        }
        params.distinguished_name = dn;
        params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
        params.not_before = now - Duration::hours(1);
        params.not_after = now + Duration::days(20 * 365);
        params.serial_number = Some(serial());
        let cert = params.self_signed(&key).map_err(|e| CaError::Sign(e.to_string()))?;
        Ok(DeviceCa { cert_pem: cert.pem(), key })
    }

    /// The CA as stored: its certificate and its key, both PEM.
    pub fn from_pem(cert_pem: &str, key_pem: &str) -> Result<DeviceCa, CaError> {
        let key = KeyPair::from_pem(key_pem).map_err(|e| CaError::Stored(e.to_string()))?;
        Issuer::from_ca_cert_pem(cert_pem, &key).map_err(|e| CaError::Stored(e.to_string()))?;
        Ok(DeviceCa { cert_pem: cert_pem.to_owned(), key })
    }

    pub fn cert_pem(&self) -> &str {
        &self.cert_pem
    }

    pub fn key_pem(&self) -> String {
        self.key.serialize_pem()
    }

    fn issuer(&self) -> Result<Issuer<'_, &KeyPair>, CaError> {
        Issuer::from_ca_cert_pem(&self.cert_pem, &self.key).map_err(|e| CaError::Stored(e.to_string()))
    }

    /// Signs a device's certificate request: the request proves the device holds the key; the
    /// certificate names only the device id (whatever else the request asks for is ignored) and
    /// may only authenticate a client.
    pub fn issue_device(&self, csr_pem: &str, device_id: &str, now: OffsetDateTime, days: i64) -> Result<Issued, CaError> {
        if csr_pem.len() > 8192 {
            return Err(CaError::Request);
        }
        let mut csr = CertificateSigningRequestParams::from_pem(csr_pem).map_err(|_| CaError::Request)?;
        let mut params = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, device_id);
        params.distinguished_name = dn;
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        params.not_before = now - Duration::minutes(10);
        params.not_after = now + Duration::days(days);
        params.use_authority_key_identifier_extension = true;
        let serial = serial();
        params.serial_number = Some(serial.clone());
        csr.params = params;
        let cert = csr.signed_by(&self.issuer()?).map_err(|e| CaError::Sign(e.to_string()))?;
        Ok(Issued {
            pem: cert.pem(),
            serial: hex::encode(serial.as_ref()),
            sha256: fingerprint(cert.der()),
            not_after: now + Duration::days(days),
        })
    }

    /// The agent endpoint's own certificate for `names` (host names or addresses), with a new
    /// key: (certificate PEM, key PEM).
    pub fn issue_server(&self, names: &[String], now: OffsetDateTime, days: i64) -> Result<(String, String), CaError> {
        let key = KeyPair::generate().map_err(|e| CaError::Sign(e.to_string()))?;
        let mut params = CertificateParams::new(names.to_vec()).map_err(|e| CaError::Sign(e.to_string()))?;
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, names.first().map(String::as_str).unwrap_or("veilig"));
        params.distinguished_name = dn;
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.not_before = now - Duration::minutes(10);
        params.not_after = now + Duration::days(days);
        params.use_authority_key_identifier_extension = true;
        params.serial_number = Some(serial());
        let cert = params.signed_by(&key, &self.issuer()?).map_err(|e| CaError::Sign(e.to_string()))?;
        Ok((cert.pem(), key.serialize_pem()))
    }
}
