//! The one error type of the domain: every message names the field or value at fault.

/// Why a value, field, identifier or clock reading was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DomainError {
    /// A field value breaks the field's rule: `rule` says which (the app translates it),
    /// `reason` says it in English with the value at fault (the CLI, the server, logs).
    #[error("{field}: {reason}")]
    InvalidField {
        field: String,
        rule: Rule,
        reason: String,
    },
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
    pub(crate) fn invalid(field: &str, rule: Rule, reason: impl Into<String>) -> Self {
        DomainError::InvalidField {
            field: field.to_owned(),
            rule,
            reason: reason.into(),
        }
    }

    /// The rule a field's value broke, for an invalid or missing value.
    pub fn rule(&self) -> Option<Rule> {
        match self {
            DomainError::InvalidField { rule, .. } => Some(rule.clone()),
            DomainError::MissingField { .. } => Some(Rule::Required),
            _ => None,
        }
    }
}

/// Which rule of a field a value broke, with the limits a person needs to correct it, and
/// never the value itself. The English `reason` beside it is for the CLI and the server;
/// the app says each rule in the user's language (`validation.*` in ui/src/i18n). New
/// rules are added at the end; a name is never reused for another rule.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "rule", rename_all = "snake_case")]
pub enum Rule {
    /// The field must have a value.
    Required,
    /// A text of only spaces.
    Empty,
    /// Longer than `max` characters.
    TooLong {
        /// The most characters allowed.
        max: usize,
    },
    /// A line break, tab or other control character in a one-line text.
    OneLine,
    /// A control character other than a line break or tab in a free text.
    ControlCharacters,
    /// A Finnish national number (0…) with too few or too many digits.
    PhoneLength,
    /// A phone number that starts with neither + nor 0.
    PhonePrefix,
    /// A phone number with something else than digits after its prefix (spaces, dashes,
    /// dots and parentheses are allowed).
    PhoneDigits,
    /// An international number (+…) of fewer than 7 or more than 15 digits, or with a 0
    /// right after the +.
    PhoneInternational,
    /// An email address without an @.
    EmailNoAt,
    /// An email address with more than one @.
    EmailManyAt,
    /// An email address with nothing (or more than 64 characters) before the @.
    EmailLocalPart,
    /// An email address with a space in it.
    EmailSpaces,
    /// An email address without a domain such as example.fi after the @.
    EmailDomain,
    /// A language code that is not an ISO 639 code.
    Language,
    /// A value that is not one of the field's choices.
    UnknownChoice,
    /// A year outside `min`..=`max` (the current year).
    YearRange {
        /// The earliest year allowed.
        min: i64,
        /// The latest year allowed.
        max: i64,
    },
    /// A number outside `min`..=`max`.
    NumberRange {
        /// The smallest number allowed.
        min: i64,
        /// The largest number allowed.
        max: i64,
    },
    /// A text that is not a date.
    Date,
    /// A text that is not a date and time.
    DateTime,
    /// A list of more than `max` members.
    TooManyMembers {
        /// The most members allowed.
        max: usize,
    },
    /// A value of the wrong kind (a number for a text, say): the app never sends one.
    WrongType,
    /// Special-category data on a client without a lawful basis.
    LawfulBasisRequired,
    /// The lawful basis cleared while `field` holds special-category data.
    LawfulBasisInUse {
        /// The client field that still holds special-category data.
        field: String,
    },
    /// A date and time after `latest` (the day after the day it is entered on, anywhere on
    /// Earth): a contact is logged once it has happened, and a year typed wrong would keep it
    /// first in every list and its client from retention.
    TooLate {
        /// The last day allowed, YYYY-MM-DD.
        latest: String,
    },
}
