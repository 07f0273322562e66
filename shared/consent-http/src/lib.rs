//! HTTP plumbing shared by the HTTP functions: JSON in and out, errors as
//! `{"error":{"code","message"}}` responses, body limits, headers for HTML pages, and the
//! request's authenticated caller, path parameters whose rejections are our errors, and the
//! OpenAPI document's shared parts.

mod caller;
mod error;
mod json;
pub mod openapi;
mod pages;
mod path;

pub use caller::{Actor, CallerIdentity};
pub use error::{ApiError, fallback};
pub use json::{ApiJson, MAX_BODY_BYTES, body_limit};
pub use pages::{Page, escape, html_page};
pub use path::ApiPath;
