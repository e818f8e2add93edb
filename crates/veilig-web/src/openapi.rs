//! The OpenAPI document, generated from the handlers' annotations.

pub use crate::views::ApiDoc;
