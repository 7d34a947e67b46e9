//! The Tauri commands. Each is thin: take the state, convert the input, make one call into a
//! crate, map the result to a DTO. The clock is read here, at the edge, and passed in.

pub mod clients;
pub mod contacts;
pub mod duplicates;
pub mod privacy;
pub mod session;
pub mod settings;
pub mod sync;
pub mod updates;

use chrono::{DateTime, Local, NaiveDate, Utc};
use tandem_domain::RecordId;

use crate::error::CommandError;

/// The moment of an edit.
fn now() -> DateTime<Utc> {
    #[allow(clippy::disallowed_methods)] // The shell is the edge where the clock is read.
    Utc::now()
}

/// Today on this laptop's calendar.
fn today() -> NaiveDate {
    #[allow(clippy::disallowed_methods)] // As above: the edge.
    Local::now().date_naive()
}

/// Now with this laptop's UTC offset, as contacts record it.
fn local_now_rfc3339() -> String {
    #[allow(clippy::disallowed_methods)] // As above: the edge.
    Local::now().fixed_offset().to_rfc3339()
}

/// Parses a record id sent by the UI; a bad one is a validation error of `field`.
fn record_id(field: &str, text: &str) -> Result<RecordId, CommandError> {
    RecordId::parse(text).map_err(|error| CommandError::invalid_field(field, error.to_string()))
}
