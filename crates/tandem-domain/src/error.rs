//! The one error type of the domain: every message names the field or value at fault.

/// Why a value, field, identifier or clock reading was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DomainError {
    /// A field value breaks the field's rule.
    #[error("{field}: {reason}")]
    InvalidField { field: String, reason: String },
    /// A field that must have a value was left empty.
    #[error("{field}: a value is required")]
    MissingField { field: String },
    /// The entity name is not one of the records Tandem keeps.
    #[error("unknown entity `{0}` (expected `client` or `contact`)")]
    UnknownEntity(String),
    /// The field does not exist on that entity.
    #[error("unknown field `{field}` of {entity}")]
    UnknownField { entity: String, field: String },
    /// An identifier is not a UUID.
    #[error("invalid {kind} id `{value}`: expected a UUID")]
    InvalidId { kind: &'static str, value: String },
    /// A hybrid logical clock string is malformed.
    #[error("invalid clock value `{0}`: expected PPPPPPPPPPPPP-LLLLL-NODE")]
    InvalidHlc(String),
}

impl DomainError {
    pub(crate) fn invalid(field: &str, reason: impl Into<String>) -> Self {
        DomainError::InvalidField {
            field: field.to_owned(),
            reason: reason.into(),
        }
    }
}
