//! Tandem's domain: the records a team keeps, their fields and merge policies, the rules a
//! value must satisfy, the hybrid logical clock, and the pure merge functions that the
//! laptop store and the central server both use.
//!
//! Nothing here does I/O or reads a clock: the current time and date are always passed in.

mod consent;
mod enums;
mod error;
mod fields;
mod hlc;
mod ids;
pub mod merge;
mod values;

pub use consent::{LAWFUL_BASIS_FIELD, check_lawful_basis, consent_gate_fields, is_consent_gated};
pub use enums::{
    Channel, Consent, EducationLevel, EmploymentStatus, ExitSituation, Gender, LawfulBasis,
    Referral, Topic, YesNoDeclined,
};
pub use error::{DomainError, Rule};
pub use fields::{
    Entity, FieldKind, FieldSpec, FieldValue, MIN_YEAR, MergePolicy, Record, ValidationContext,
    field_spec, fields_of,
};
pub use hlc::{ClockObservation, DEFAULT_MAX_DRIFT_MS, Hlc, HlcClock, MAX_LOGICAL};
pub use ids::{ChangeId, DeviceId, RecordId, SiteId, TeamId, UserId};
pub use values::{
    Email, LanguageCode, LongText, MAX_LONG_TEXT_CHARS, MAX_NAME_CHARS, MAX_SHORT_TEXT_CHARS,
    MAX_TAG_CHARS, PersonName, PhoneNumber, ShortText, Tag,
};
