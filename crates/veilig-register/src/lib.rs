//! The cloud register (issue #7): which cloud services the organisation uses per function, with
//! what status, assessed with evidence and a risk score, reviewed at least yearly; and the
//! services employees report, which the security officer approves, rejects with a safer
//! alternative, or asks about. Every change is audited in its transaction; an answered report
//! goes out on the `EventBus` (`CloudReportAnswered`) for the mail. Knows neither HTTP nor SQL.

mod service;

pub use service::{
    Actor, Decision, Discovered, Evidence, NewService, Register, RegisterError, ReportView, STATUSES, ServiceView, Update, Upload,
    WhichTool,
};
