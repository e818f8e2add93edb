//! Roles. Groups say *what* someone may reach (VPN networks, cloud services); roles say what
//! they may do in Veilig itself.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Everything, including users, tokens and settings.
    Admin,
    /// Sees and handles alerts, reports and the audit log; manages no users.
    SecurityOfficer,
    /// Their own page: factors, sessions, devices.
    Employee,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::SecurityOfficer => "security_officer",
            Role::Employee => "employee",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        match s.trim() {
            "admin" | "administrator" => Some(Role::Admin),
            "security_officer" | "security-officer" => Some(Role::SecurityOfficer),
            "employee" => Some(Role::Employee),
            _ => None,
        }
    }

    /// May see the security overview and the audit log.
    pub fn is_staff(self) -> bool {
        matches!(self, Role::Admin | Role::SecurityOfficer)
    }
}
