//! The service catalog: `data/catalog.toml`, checked when loaded.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

/// The functions a service can serve, as the catalog and the register name them.
pub const FUNCTIONS: &[&str] = &[
    "video_calls",
    "chat",
    "file_sharing",
    "file_transfer",
    "email",
    "office_suite",
    "ai_assistant",
    "translation",
    "e_signing",
    "surveys",
    "planning",
    "notes",
    "password_manager",
    "crm",
    "hr",
    "payroll",
    "accounting",
    "design",
    "code_hosting",
    "remote_support",
    "project_management",
    "forms",
    "social_media",
    "newsletters",
    "analytics",
    "backup",
    "website",
    "customer_support",
    "payments",
    "learning",
    "transcription",
    "whiteboard",
    "automation",
    "video_hosting",
    "calendar_booking",
];

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Service {
    pub id: String,
    pub name: String,
    pub vendor: String,
    pub website: String,
    /// Where the vendor is based (ISO 3166 alpha-2), not where data is kept.
    pub country: String,
    pub functions: Vec<String>,
    /// Registrable domains (eTLD+1): a name is the service's when it is one of them or ends in
    /// `.` + one of them.
    pub domains: Vec<String>,
}

#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum CatalogError {
    #[error("the catalog is not valid TOML: {0}")]
    Toml(String),
    #[error("service {id}: {why}")]
    Service { id: String, why: String },
    #[error("domain {domain} belongs to both {first} and {second}")]
    Duplicate { domain: String, first: String, second: String },
}

#[derive(Deserialize)]
struct File {
    service: Vec<Service>,
}

/// The catalog with its index from registrable domain to service.
#[derive(Debug, Clone)]
pub struct Catalog {
    services: Vec<Service>,
    by_domain: HashMap<String, u32>,
    by_id: HashMap<String, u32>,
}

const SHIPPED: &str = include_str!("../data/catalog.toml");

fn valid_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 60 && id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

impl Catalog {
    /// The catalog shipped with Veilig.
    pub fn shipped() -> Result<Catalog, CatalogError> {
        Catalog::parse(SHIPPED)
    }

    /// The shipped catalog, read once for the life of the process (for long-lived discovery).
    pub fn shipped_static() -> Result<&'static Catalog, CatalogError> {
        static SHIPPED_CATALOG: std::sync::OnceLock<Result<Catalog, CatalogError>> = std::sync::OnceLock::new();
        SHIPPED_CATALOG.get_or_init(Catalog::shipped).as_ref().map_err(Clone::clone)
    }

    /// Reads and checks a catalog: ids, functions from [`FUNCTIONS`], domains registrable
    /// (per the public suffix list) and each in one service only.
    pub fn parse(text: &str) -> Result<Catalog, CatalogError> {
        let file: File = toml::from_str(text).map_err(|e| CatalogError::Toml(e.message().to_owned()))?;
        let mut by_domain: HashMap<String, u32> = HashMap::new();
        let mut by_id = HashMap::new();
        for (i, s) in file.service.iter().enumerate() {
            let bad = |why: String| CatalogError::Service { id: s.id.clone(), why };
            if !valid_id(&s.id) {
                return Err(bad("the id must be lower-case letters, digits and '-'".into()));
            }
            if by_id.insert(s.id.clone(), i as u32).is_some() {
                return Err(bad("the id is used twice".into()));
            }
            if s.name.trim().is_empty() || s.functions.is_empty() || s.domains.is_empty() {
                return Err(bad("a name, at least one function and at least one domain are needed".into()));
            }
            if let Some(f) = s.functions.iter().find(|f| !FUNCTIONS.contains(&f.as_str())) {
                return Err(bad(format!("unknown function '{f}'")));
            }
            for d in &s.domains {
                if d != &d.to_ascii_lowercase() || psl::domain_str(d) != Some(d.as_str()) {
                    return Err(bad(format!("'{d}' is not a registrable domain")));
                }
                if let Some(&other) = by_domain.get(d) {
                    return Err(CatalogError::Duplicate {
                        domain: d.clone(),
                        first: file.service[other as usize].id.clone(),
                        second: s.id.clone(),
                    });
                }
                by_domain.insert(d.clone(), i as u32);
            }
        }
        Ok(Catalog { services: file.service, by_domain, by_id })
    }

    pub fn services(&self) -> &[Service] {
        &self.services
    }

    pub fn get(&self, index: u32) -> Option<&Service> {
        self.services.get(index as usize)
    }

    pub fn by_id(&self, id: &str) -> Option<&Service> {
        self.by_id.get(id).and_then(|&i| self.get(i))
    }

    /// The service a (lower-case, dot-free at the end) name belongs to: the name itself or one
    /// of its parent names is a catalog domain.
    pub fn lookup(&self, name: &str) -> Option<u32> {
        let mut rest = name;
        loop {
            if let Some(&i) = self.by_domain.get(rest) {
                return Some(i);
            }
            match rest.find('.') {
                // a single label is never a catalog domain
                Some(dot) if rest[dot + 1..].contains('.') => rest = &rest[dot + 1..],
                _ => return None,
            }
        }
    }
}
