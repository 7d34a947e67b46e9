//! The field catalogue: every field of every record, its kind (what a valid value is) and its
//! merge policy, plus `FieldValue`, the canonical form of a value, and `Record`, a record as a
//! set of validated field values.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use chrono::{DateTime, Datelike, Days, FixedOffset, NaiveDate};
use serde_json::Value as Json;

use crate::enums::{
    Channel, Consent, EducationLevel, EmploymentStatus, ExitSituation, Gender, LawfulBasis,
    Referral, Topic, YesNoDeclined,
};
use crate::ids::RecordId;
use crate::values::{Email, LanguageCode, LongText, PersonName, PhoneNumber, ShortText, Tag};
use crate::{DomainError, Rule};

/// The kinds of synced records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Entity {
    /// A person the team works with.
    Client,
    /// One meeting, visit, call or group session.
    Contact,
}

impl Entity {
    /// Both entities.
    pub const ALL: [Entity; 2] = [Entity::Client, Entity::Contact];

    /// The wire name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Entity::Client => "client",
            Entity::Contact => "contact",
        }
    }

    /// Parses a wire name.
    pub fn parse(text: &str) -> Result<Self, DomainError> {
        match text {
            "client" => Ok(Entity::Client),
            "contact" => Ok(Entity::Contact),
            other => Err(DomainError::UnknownEntity(other.to_owned())),
        }
    }
}

impl fmt::Display for Entity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How concurrent writes to one field are reconciled (DESIGN.md, "Merge policies").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MergePolicy {
    /// Last writer wins by HLC; the loser is kept in history and an auto-resolved conflict.
    Lww,
    /// A provisional winner by HLC, and an open conflict for a team lead.
    Review,
    /// Three-way set merge; a conflict only when the merged set would break the field's
    /// limits (too many members), which goes to review.
    Set,
    /// Three-way text merge; overlapping edits, or a merged text past the field's limits,
    /// go to review.
    Text,
}

impl MergePolicy {
    /// The name used in documents and on the wire.
    pub const fn as_str(self) -> &'static str {
        match self {
            MergePolicy::Lww => "lww",
            MergePolicy::Review => "review",
            MergePolicy::Set => "set",
            MergePolicy::Text => "text",
        }
    }
}

/// The earliest year a year field takes (a birth year, the year of arrival).
pub const MIN_YEAR: i64 = 1900;

/// What a valid value of a field is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    /// A person's name part.
    PersonName,
    /// A one-line text up to 200 characters.
    ShortText,
    /// A free text up to 20,000 characters.
    LongText,
    /// A calendar year from [`MIN_YEAR`] to the current year.
    Year,
    /// A whole number in a range.
    Integer { min: i64, max: i64 },
    /// True or false.
    Bool,
    /// One of a closed set of snake_case names.
    Enumeration(&'static [&'static str]),
    /// A set of names from a closed set.
    EnumerationSet(&'static [&'static str]),
    /// One ISO 639 language code.
    Language,
    /// A set of ISO 639 language codes.
    LanguageSet,
    /// A set of free-form tags.
    TagSet,
    /// A phone number (stored as E.164).
    Phone,
    /// An email address.
    Email,
    /// A calendar date, `YYYY-MM-DD`.
    Date,
    /// A date-time with its UTC offset, RFC 3339.
    DateTime,
    /// The id of a record or of reference data (user, site, client).
    Id,
}

/// One field of one entity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldSpec {
    /// The entity the field belongs to.
    pub entity: Entity,
    /// The wire name of the field.
    pub name: &'static str,
    /// What a valid value is.
    pub kind: FieldKind,
    /// How concurrent writes are reconciled.
    pub policy: MergePolicy,
    /// Whether a record must always have a value here (it cannot be created without one or
    /// cleared).
    pub required: bool,
    /// Whether the field reveals special-category data (GDPR art. 9: health, origin), so it
    /// may hold a value only while the record has a lawful basis ([`check_lawful_basis`]).
    pub special_category: bool,
}

const fn spec(
    entity: Entity,
    name: &'static str,
    kind: FieldKind,
    policy: MergePolicy,
) -> FieldSpec {
    FieldSpec {
        entity,
        name,
        kind,
        policy,
        required: false,
        special_category: false,
    }
}

const fn required(
    entity: Entity,
    name: &'static str,
    kind: FieldKind,
    policy: MergePolicy,
) -> FieldSpec {
    FieldSpec {
        entity,
        name,
        kind,
        policy,
        required: true,
        special_category: false,
    }
}

/// A field of special-category data: gated on a lawful basis.
const fn special(entity: Entity, name: &'static str, kind: FieldKind) -> FieldSpec {
    FieldSpec {
        entity,
        name,
        kind,
        policy: MergePolicy::Review,
        required: false,
        special_category: true,
    }
}

use Entity::{Client as C, Contact as K};
use FieldKind as F;
use MergePolicy::{Lww, Review, Set, Text};

const CLIENT_FIELDS: &[FieldSpec] = &[
    required(C, "given_name", F::PersonName, Review),
    spec(C, "family_name", F::PersonName, Review),
    spec(C, "nickname", F::ShortText, Lww),
    spec(C, "birth_year", F::Year, Review),
    spec(C, "gender", F::Enumeration(Gender::NAMES), Review),
    spec(C, "languages", F::LanguageSet, Set),
    spec(C, "preferred_language", F::Language, Lww),
    spec(C, "interpreter_needed", F::Bool, Lww),
    spec(C, "phone", F::Phone, Review),
    spec(C, "email", F::Email, Review),
    spec(C, "municipality", F::ShortText, Lww),
    spec(C, "arrived_in_finland", F::Year, Review),
    spec(
        C,
        "employment_status",
        F::Enumeration(EmploymentStatus::NAMES),
        Lww,
    ),
    spec(
        C,
        "education_level",
        F::Enumeration(EducationLevel::NAMES),
        Lww,
    ),
    special(
        C,
        "third_country_national",
        F::Enumeration(YesNoDeclined::NAMES),
    ),
    // Not in the table of DESIGN.md, but an ESF+ common indicator the participant report
    // needs (see ARCHITECTURE.md, decisions).
    special(
        C,
        "foreign_background",
        F::Enumeration(YesNoDeclined::NAMES),
    ),
    special(C, "disability", F::Enumeration(YesNoDeclined::NAMES)),
    spec(C, "consent", F::Enumeration(Consent::NAMES), Review),
    spec(C, "consent_date", F::Date, Review),
    spec(C, "consent_by", F::Id, Review),
    spec(
        C,
        "lawful_basis",
        F::Enumeration(LawfulBasis::NAMES),
        Review,
    ),
    spec(C, "participant_start", F::Date, Review),
    spec(C, "participant_exit", F::Date, Review),
    spec(
        C,
        "exit_situation",
        F::Enumeration(ExitSituation::NAMES),
        Lww,
    ),
    spec(C, "notes", F::LongText, Text),
    spec(C, "tags", F::TagSet, Set),
    spec(C, "deleted", F::Bool, Review),
    spec(C, "merged_into", F::Id, Review),
];

const CONTACT_FIELDS: &[FieldSpec] = &[
    spec(K, "client_id", F::Id, Review),
    required(K, "occurred_at", F::DateTime, Lww),
    spec(K, "site", F::Id, Lww),
    spec(K, "coach_id", F::Id, Lww),
    spec(K, "channel", F::Enumeration(Channel::NAMES), Lww),
    spec(K, "duration_min", F::Integer { min: 0, max: 600 }, Lww),
    spec(K, "topics", F::EnumerationSet(Topic::NAMES), Set),
    spec(K, "service_language", F::Language, Lww),
    spec(K, "interpreter_used", F::Bool, Lww),
    spec(K, "referrals", F::EnumerationSet(Referral::NAMES), Set),
    spec(K, "summary", F::LongText, Text),
    spec(K, "follow_up_on", F::Date, Lww),
    spec(K, "follow_up_done", F::Bool, Lww),
    spec(K, "deleted", F::Bool, Review),
];

/// Every field of an entity, in the order of DESIGN.md.
pub fn fields_of(entity: Entity) -> &'static [FieldSpec] {
    match entity {
        Entity::Client => CLIENT_FIELDS,
        Entity::Contact => CONTACT_FIELDS,
    }
}

/// Looks up one field; an unknown name is an error that names it.
pub fn field_spec(entity: Entity, name: &str) -> Result<&'static FieldSpec, DomainError> {
    fields_of(entity)
        .iter()
        .find(|spec| spec.name == name)
        .ok_or_else(|| DomainError::UnknownField {
            entity: entity.as_str().to_owned(),
            field: name.to_owned(),
        })
}

/// What validation needs to know about the present: the caller's today, and whether a person
/// is entering the value there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ValidationContext {
    /// Today's date where the value is checked.
    pub today: NaiveDate,
    /// Whether a date and time after tomorrow is refused ([`Rule::TooLate`]): where a person
    /// enters the value and can correct it, not where a value entered on another machine
    /// arrives (its clock may be off; the server's retention judges such a date).
    pub refuse_future: bool,
}

impl ValidationContext {
    /// A context for a value a person enters on the given day.
    pub const fn new(today: NaiveDate) -> Self {
        Self {
            today,
            refuse_future: true,
        }
    }

    /// A context for a value entered on another machine and received on the given day (the
    /// server's push): a date and time in the future is taken as it is.
    pub const fn received(today: NaiveDate) -> Self {
        Self {
            today,
            refuse_future: false,
        }
    }
}

/// The canonical value of a field. It can only be made by validating input against a
/// [`FieldSpec`] (or by a merge of valid values, itself validated), so a `FieldValue` in hand
/// is always valid for the field it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldValue(pub(crate) Inner);

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Inner {
    Null,
    Text(String),
    Int(i64),
    Bool(bool),
    Date(NaiveDate),
    DateTime(DateTime<FixedOffset>),
    Set(BTreeSet<String>),
}

impl FieldValue {
    /// The empty value (`null` on the wire).
    pub const NULL: FieldValue = FieldValue(Inner::Null);

    /// Whether the field is empty.
    pub fn is_null(&self) -> bool {
        matches!(self.0, Inner::Null)
    }

    /// The text of a text, name, enumeration, phone, email, language or id field.
    pub fn as_text(&self) -> Option<&str> {
        match &self.0 {
            Inner::Text(text) => Some(text),
            _ => None,
        }
    }

    /// The number of a year or integer field.
    pub fn as_int(&self) -> Option<i64> {
        match self.0 {
            Inner::Int(n) => Some(n),
            _ => None,
        }
    }

    /// The value of a boolean field.
    pub fn as_bool(&self) -> Option<bool> {
        match self.0 {
            Inner::Bool(b) => Some(b),
            _ => None,
        }
    }

    /// The date of a date field.
    pub fn as_date(&self) -> Option<NaiveDate> {
        match self.0 {
            Inner::Date(d) => Some(d),
            _ => None,
        }
    }

    /// The instant of a date-time field.
    pub fn as_date_time(&self) -> Option<DateTime<FixedOffset>> {
        match self.0 {
            Inner::DateTime(dt) => Some(dt),
            _ => None,
        }
    }

    /// The members of a set field (an empty set for null).
    pub fn as_set(&self) -> Option<&BTreeSet<String>> {
        match &self.0 {
            Inner::Set(set) => Some(set),
            _ => None,
        }
    }

    /// The wire and store form (DESIGN.md, "Values on the wire").
    pub fn to_json(&self) -> Json {
        match &self.0 {
            Inner::Null => Json::Null,
            Inner::Text(text) => Json::String(text.clone()),
            Inner::Int(n) => Json::from(*n),
            Inner::Bool(b) => Json::Bool(*b),
            Inner::Date(d) => Json::String(d.format("%Y-%m-%d").to_string()),
            Inner::DateTime(dt) => Json::String(dt.to_rfc3339()),
            Inner::Set(set) => Json::Array(set.iter().cloned().map(Json::String).collect()),
        }
    }

    /// The compact JSON text of [`FieldValue::to_json`], as stored.
    pub fn to_json_string(&self) -> String {
        self.to_json().to_string()
    }
}

impl FieldSpec {
    /// Validates a wire value for this field and returns its canonical form. Errors name the
    /// field. `null` clears an optional field; a set field given `null` is the empty set.
    pub fn parse_json(
        &self,
        value: &Json,
        ctx: ValidationContext,
    ) -> Result<FieldValue, DomainError> {
        self.parse_inner(value, ctx)
            .map_err(|err| self.relabel(err))
    }

    /// Validates the stored JSON text of a value.
    pub fn parse_json_str(
        &self,
        text: &str,
        ctx: ValidationContext,
    ) -> Result<FieldValue, DomainError> {
        let json: Json = serde_json::from_str(text).map_err(|e| {
            DomainError::invalid(
                self.name,
                Rule::WrongType,
                format!("is not valid JSON: {e}"),
            )
        })?;
        self.parse_json(&json, ctx)
    }

    /// The value a field has when nothing was written to it.
    pub fn empty_value(&self) -> FieldValue {
        match self.kind {
            F::EnumerationSet(_) | F::LanguageSet | F::TagSet => {
                FieldValue(Inner::Set(BTreeSet::new()))
            }
            F::Bool if self.name == "deleted" => FieldValue(Inner::Bool(false)),
            _ => FieldValue::NULL,
        }
    }

    fn relabel(&self, err: DomainError) -> DomainError {
        match err {
            DomainError::InvalidField { rule, reason, .. } => DomainError::InvalidField {
                field: self.name.to_owned(),
                rule,
                reason,
            },
            DomainError::InvalidId { value, .. } => DomainError::invalid(
                self.name,
                Rule::WrongType,
                format!("`{value}` is not an id (expected a UUID)"),
            ),
            other => other,
        }
    }

    fn parse_inner(&self, value: &Json, ctx: ValidationContext) -> Result<FieldValue, DomainError> {
        let name = self.name;
        if value.is_null() {
            if self.required {
                return Err(DomainError::MissingField {
                    field: name.to_owned(),
                });
            }
            return Ok(self.empty_value());
        }
        let text = || {
            value.as_str().ok_or_else(|| {
                DomainError::invalid(
                    name,
                    Rule::WrongType,
                    format!("expected a text, got {value}"),
                )
            })
        };
        let text_value = |s: String| Ok(FieldValue(Inner::Text(s)));
        match self.kind {
            F::PersonName => text_value(PersonName::parse(text()?)?.as_str().to_owned()),
            F::ShortText => text_value(ShortText::parse(text()?)?.as_str().to_owned()),
            F::LongText => text_value(LongText::parse(text()?)?.as_str().to_owned()),
            F::Phone => text_value(PhoneNumber::parse(text()?)?.as_str().to_owned()),
            F::Email => text_value(Email::parse(text()?)?.as_str().to_owned()),
            F::Language => text_value(LanguageCode::parse(text()?)?.as_str().to_owned()),
            F::Id => text_value(crate::ids::RecordId::parse(text()?)?.to_string()),
            F::Enumeration(names) => {
                let t = text()?;
                if names.contains(&t) {
                    text_value(t.to_owned())
                } else {
                    Err(DomainError::invalid(
                        name,
                        Rule::UnknownChoice,
                        format!(
                            "unknown value `{t}` (expected one of: {})",
                            names.join(", ")
                        ),
                    ))
                }
            }
            F::Year => {
                let max = i64::from(ctx.today.year());
                let range = Rule::YearRange { min: MIN_YEAR, max };
                let year = value.as_i64().ok_or_else(|| {
                    DomainError::invalid(
                        name,
                        whole_number_rule(value, range.clone()),
                        format!("expected a year, got {value}"),
                    )
                })?;
                if (MIN_YEAR..=max).contains(&year) {
                    Ok(FieldValue(Inner::Int(year)))
                } else {
                    Err(DomainError::invalid(
                        name,
                        range,
                        format!("must be a year from {MIN_YEAR} to {max} (got {year})"),
                    ))
                }
            }
            F::Integer { min, max } => {
                let n = value.as_i64().ok_or_else(|| {
                    DomainError::invalid(
                        name,
                        whole_number_rule(value, Rule::NumberRange { min, max }),
                        format!("expected a whole number, got {value}"),
                    )
                })?;
                if (min..=max).contains(&n) {
                    Ok(FieldValue(Inner::Int(n)))
                } else {
                    Err(DomainError::invalid(
                        name,
                        Rule::NumberRange { min, max },
                        format!("must be from {min} to {max} (got {n})"),
                    ))
                }
            }
            F::Bool => value
                .as_bool()
                .map(|b| FieldValue(Inner::Bool(b)))
                .ok_or_else(|| {
                    DomainError::invalid(
                        name,
                        Rule::WrongType,
                        format!("expected true or false, got {value}"),
                    )
                }),
            F::Date => {
                let t = text()?;
                NaiveDate::parse_from_str(t, "%Y-%m-%d")
                    .map(|d| FieldValue(Inner::Date(d)))
                    .map_err(|_| {
                        DomainError::invalid(
                            name,
                            Rule::Date,
                            format!("`{t}` is not a date (YYYY-MM-DD)"),
                        )
                    })
            }
            F::DateTime => {
                let t = text()?;
                let dt = DateTime::parse_from_rfc3339(t).map_err(|_| {
                    DomainError::invalid(
                        name,
                        Rule::DateTime,
                        format!("`{t}` is not a date-time with zone (RFC 3339, e.g. 2026-11-26T09:30:00+02:00)"),
                    )
                })?;
                // The day as written where it happened: today where the value is entered may
                // be tomorrow there already, so tomorrow is allowed everywhere.
                match ctx.today.checked_add_days(Days::new(1)) {
                    Some(latest) if ctx.refuse_future && dt.date_naive() > latest => {
                        Err(DomainError::invalid(
                            name,
                            Rule::TooLate {
                                latest: latest.to_string(),
                            },
                            format!("`{t}` is in the future: at the latest {latest}"),
                        ))
                    }
                    _ => Ok(FieldValue(Inner::DateTime(dt))),
                }
            }
            F::EnumerationSet(names) => {
                let members = set_members(name, value)?;
                if let Some(bad) = members.iter().find(|m| !names.contains(&m.as_str())) {
                    return Err(DomainError::invalid(
                        name,
                        Rule::UnknownChoice,
                        format!(
                            "unknown value `{bad}` (expected any of: {})",
                            names.join(", ")
                        ),
                    ));
                }
                Ok(FieldValue(Inner::Set(members)))
            }
            F::LanguageSet => {
                let members = set_members(name, value)?
                    .iter()
                    .map(|m| LanguageCode::parse(m).map(|code| code.as_str().to_owned()))
                    .collect::<Result<BTreeSet<_>, _>>()?;
                Ok(FieldValue(Inner::Set(members)))
            }
            F::TagSet => {
                let members = set_members(name, value)?
                    .iter()
                    .map(|m| Tag::parse(m).map(|tag| tag.as_str().to_owned()))
                    .collect::<Result<BTreeSet<_>, _>>()?;
                Ok(FieldValue(Inner::Set(members)))
            }
        }
    }
}

/// The rule a value that is not a whole number breaks in a field of whole numbers: a number
/// with a fraction (20.5 minutes, typed into a number input) is outside the field's `range`
/// of whole numbers, which says what to enter; anything else is of the wrong kind.
fn whole_number_rule(value: &Json, range: Rule) -> Rule {
    if value.is_number() {
        range
    } else {
        Rule::WrongType
    }
}

/// Most members a set field may have; sets are small by nature (topics, languages, tags).
const MAX_SET_MEMBERS: usize = 100;

fn set_members(name: &str, value: &Json) -> Result<BTreeSet<String>, DomainError> {
    let items = value.as_array().ok_or_else(|| {
        DomainError::invalid(
            name,
            Rule::WrongType,
            format!("expected a list, got {value}"),
        )
    })?;
    if items.len() > MAX_SET_MEMBERS {
        return Err(DomainError::invalid(
            name,
            Rule::TooManyMembers {
                max: MAX_SET_MEMBERS,
            },
            format!(
                "has {} members; at most {MAX_SET_MEMBERS} are allowed",
                items.len()
            ),
        ));
    }
    items
        .iter()
        .map(|item| {
            item.as_str().map(str::to_owned).ok_or_else(|| {
                DomainError::invalid(
                    name,
                    Rule::WrongType,
                    format!("expected texts in the list, got {item}"),
                )
            })
        })
        .collect()
}

/// A record as the set of its field values. Fields never written hold their empty value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    entity: Entity,
    id: RecordId,
    values: BTreeMap<&'static str, FieldValue>,
}

impl Record {
    /// A record with every field empty.
    pub fn empty(entity: Entity, id: RecordId) -> Self {
        let values = fields_of(entity)
            .iter()
            .map(|spec| (spec.name, spec.empty_value()))
            .collect();
        Self { entity, id, values }
    }

    /// Validates the values of a new record: every field known and valid, every required
    /// field present. Returns the record with all its fields.
    pub fn create(
        entity: Entity,
        id: RecordId,
        input: &BTreeMap<String, Json>,
        ctx: ValidationContext,
    ) -> Result<Self, DomainError> {
        let mut record = Self::empty(entity, id);
        for (name, json) in input {
            let spec = field_spec(entity, name)?;
            record.values.insert(spec.name, spec.parse_json(json, ctx)?);
        }
        if let Some(missing) = fields_of(entity)
            .iter()
            .find(|spec| spec.required && record.values[spec.name].is_null())
        {
            return Err(DomainError::MissingField {
                field: missing.name.to_owned(),
            });
        }
        Ok(record)
    }

    /// Sets one field from an already validated value of that field.
    pub fn set(&mut self, spec: &'static FieldSpec, value: FieldValue) {
        debug_assert_eq!(spec.entity, self.entity);
        self.values.insert(spec.name, value);
    }

    /// The entity.
    pub fn entity(&self) -> Entity {
        self.entity
    }

    /// The id.
    pub fn id(&self) -> RecordId {
        self.id
    }

    /// One field's value.
    pub fn get(&self, field: &str) -> &FieldValue {
        static NULL: FieldValue = FieldValue::NULL;
        self.values.get(field).unwrap_or(&NULL)
    }

    /// Every field with its value, in name order.
    pub fn values(&self) -> impl Iterator<Item = (&'static str, &FieldValue)> {
        self.values.iter().map(|(name, value)| (*name, value))
    }

    /// The record as a JSON object (`id` plus every field).
    pub fn to_json(&self) -> Json {
        let mut object = serde_json::Map::new();
        object.insert("id".to_owned(), Json::String(self.id.to_string()));
        for (name, value) in &self.values {
            object.insert((*name).to_owned(), value.to_json());
        }
        Json::Object(object)
    }

    /// Whether the record is a tombstone.
    pub fn is_deleted(&self) -> bool {
        self.get("deleted").as_bool() == Some(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    use crate::MAX_SHORT_TEXT_CHARS;

    fn ctx() -> ValidationContext {
        ValidationContext::new(NaiveDate::from_ymd_opt(2026, 11, 26).unwrap())
    }

    fn parse(entity: Entity, field: &str, value: Json) -> Result<FieldValue, DomainError> {
        field_spec(entity, field)?.parse_json(&value, ctx())
    }

    #[test]
    fn every_field_of_design_md_is_in_the_catalogue_with_its_policy() {
        let client: Vec<_> = fields_of(Entity::Client)
            .iter()
            .map(|s| (s.name, s.policy.as_str()))
            .collect();
        assert!(client.contains(&("given_name", "review")));
        assert!(client.contains(&("nickname", "lww")));
        assert!(client.contains(&("languages", "set")));
        assert!(client.contains(&("notes", "text")));
        assert!(client.contains(&("merged_into", "review")));
        assert_eq!(client.len(), 28);
        let contact: Vec<_> = fields_of(Entity::Contact)
            .iter()
            .map(|s| (s.name, s.policy.as_str()))
            .collect();
        assert!(contact.contains(&("topics", "set")));
        assert!(contact.contains(&("summary", "text")));
        assert!(contact.contains(&("follow_up_done", "lww")));
        assert_eq!(contact.len(), 14);
    }

    #[test]
    fn birth_year_must_lie_between_1900_and_this_year() {
        assert_eq!(
            parse(Entity::Client, "birth_year", json!(1990))
                .unwrap()
                .as_int(),
            Some(1990)
        );
        assert_eq!(
            parse(Entity::Client, "birth_year", json!(2026))
                .unwrap()
                .as_int(),
            Some(2026)
        );
        let err = parse(Entity::Client, "birth_year", json!(1850)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "birth_year: must be a year from 1900 to 2026 (got 1850)"
        );
        assert!(parse(Entity::Client, "birth_year", json!(2027)).is_err());
        assert!(parse(Entity::Client, "birth_year", json!("1990")).is_err());
    }

    #[test]
    fn duration_is_minutes_from_0_to_600() {
        assert!(parse(Entity::Contact, "duration_min", json!(0)).is_ok());
        assert!(parse(Entity::Contact, "duration_min", json!(600)).is_ok());
        let err = parse(Entity::Contact, "duration_min", json!(601))
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("duration_min: must be from 0 to 600"),
            "{err}"
        );
        assert!(parse(Entity::Contact, "duration_min", json!(-1)).is_err());
        assert!(parse(Entity::Contact, "duration_min", json!(1.5)).is_err());
    }

    #[test]
    fn every_refusal_names_the_rule_broken_with_its_limits() {
        let long = "ä".repeat(MAX_SHORT_TEXT_CHARS + 1);
        let cases: Vec<(Entity, &str, Json, Rule)> = vec![
            (Entity::Client, "family_name", json!("  "), Rule::Empty),
            (
                Entity::Client,
                "nickname",
                json!(long),
                Rule::TooLong {
                    max: MAX_SHORT_TEXT_CHARS,
                },
            ),
            (
                Entity::Client,
                "nickname",
                json!("Abdi\nWarsame"),
                Rule::OneLine,
            ),
            (
                Entity::Client,
                "notes",
                json!("bell \u{7}"),
                Rule::ControlCharacters,
            ),
            (Entity::Client, "phone", json!("040 12"), Rule::PhoneLength),
            (
                Entity::Client,
                "phone",
                json!("358 40 123 4567"),
                Rule::PhonePrefix,
            ),
            (
                Entity::Client,
                "phone",
                json!("040 123 456A"),
                Rule::PhoneDigits,
            ),
            // A letter is a wrong digit, not a wrong length, however long the number is.
            (Entity::Client, "phone", json!("0abc"), Rule::PhoneDigits),
            (
                Entity::Client,
                "phone",
                json!("040 12a 4567"),
                Rule::PhoneDigits,
            ),
            (
                Entity::Client,
                "phone",
                json!("040 123 4567 ext"),
                Rule::PhoneDigits,
            ),
            (
                Entity::Client,
                "phone",
                json!("+358 abc"),
                Rule::PhoneDigits,
            ),
            (
                Entity::Client,
                "phone",
                json!("+12345"),
                Rule::PhoneInternational,
            ),
            (
                Entity::Client,
                "email",
                json!("abdi.example.fi"),
                Rule::EmailNoAt,
            ),
            (
                Entity::Client,
                "email",
                json!("abdi@x@example.fi"),
                Rule::EmailManyAt,
            ),
            (
                Entity::Client,
                "email",
                json!("@example.fi"),
                Rule::EmailLocalPart,
            ),
            (
                Entity::Client,
                "email",
                json!("abdi w@example.fi"),
                Rule::EmailSpaces,
            ),
            (
                Entity::Client,
                "email",
                json!("abdi@example"),
                Rule::EmailDomain,
            ),
            (
                Entity::Client,
                "email",
                json!("abdi@example.f"),
                Rule::EmailDomain,
            ),
            (
                Entity::Client,
                "languages",
                json!(["fi", "klingon"]),
                Rule::Language,
            ),
            (
                Entity::Client,
                "gender",
                json!("other_value"),
                Rule::UnknownChoice,
            ),
            (
                Entity::Contact,
                "topics",
                json!(["housing", "cooking"]),
                Rule::UnknownChoice,
            ),
            (
                Entity::Client,
                "birth_year",
                json!(1850),
                Rule::YearRange {
                    min: MIN_YEAR,
                    max: 2026,
                },
            ),
            (
                Entity::Contact,
                "duration_min",
                json!(601),
                Rule::NumberRange { min: 0, max: 600 },
            ),
            (
                Entity::Contact,
                "duration_min",
                json!(20.5),
                Rule::NumberRange { min: 0, max: 600 },
            ),
            (
                Entity::Client,
                "birth_year",
                json!(1985.5),
                Rule::YearRange {
                    min: MIN_YEAR,
                    max: 2026,
                },
            ),
            (Entity::Client, "birth_year", json!("1985"), Rule::WrongType),
            (
                Entity::Contact,
                "follow_up_on",
                json!("1.12.2026"),
                Rule::Date,
            ),
            (
                Entity::Contact,
                "occurred_at",
                json!("2026-11-26 09:30"),
                Rule::DateTime,
            ),
            (Entity::Contact, "occurred_at", Json::Null, Rule::Required),
            (
                Entity::Contact,
                "occurred_at",
                json!("2095-11-26T09:30:00+02:00"),
                Rule::TooLate {
                    latest: "2026-11-27".into(),
                },
            ),
            (
                Entity::Contact,
                "occurred_at",
                json!("2026-11-28T00:30:00+02:00"),
                Rule::TooLate {
                    latest: "2026-11-27".into(),
                },
            ),
            (
                Entity::Client,
                "tags",
                json!(
                    (0..=MAX_SET_MEMBERS)
                        .map(|n| n.to_string())
                        .collect::<Vec<_>>()
                ),
                Rule::TooManyMembers {
                    max: MAX_SET_MEMBERS,
                },
            ),
            (Entity::Client, "nickname", json!(7), Rule::WrongType),
            (Entity::Client, "consent_by", json!("bob"), Rule::WrongType),
        ];
        for (entity, field, value, rule) in cases {
            let err = parse(entity, field, value.clone()).unwrap_err();
            assert_eq!(err.rule(), Some(rule), "{field} = {value}: {err}");
        }
        assert_eq!(
            serde_json::to_value(Rule::YearRange {
                min: 1900,
                max: 2026
            })
            .unwrap(),
            json!({"rule": "year_range", "min": 1900, "max": 2026})
        );
        assert_eq!(
            serde_json::to_value(Rule::PhonePrefix).unwrap(),
            json!({"rule": "phone_prefix"})
        );
    }

    #[test]
    fn a_contact_may_be_dated_up_to_the_end_of_tomorrow_wherever_it_was_logged() {
        // Today is 26 November where the value is entered; a contact logged late in the
        // evening east of here may already be on the 27th.
        for ok in [
            "2020-01-01T09:00:00+02:00",
            "2026-11-26T23:59:00+02:00",
            "2026-11-27T23:59:59+14:00",
            "2026-11-27T23:59:59-12:00",
        ] {
            parse(Entity::Contact, "occurred_at", json!(ok)).unwrap();
        }
        let err = parse(
            Entity::Contact,
            "occurred_at",
            json!("2062-11-26T09:30:00+02:00"),
        )
        .unwrap_err();
        assert!(err.to_string().contains("2026-11-27"), "{err}");
        // Values already stored are read whatever their date, and a value entered on another
        // machine is taken as it is.
        let spec = field_spec(Entity::Contact, "occurred_at").unwrap();
        let typo = json!("2095-11-26T09:30:00+02:00");
        spec.parse_json(&typo, ValidationContext::new(NaiveDate::MAX))
            .unwrap();
        spec.parse_json(&typo, ValidationContext::received(ctx().today))
            .unwrap();
    }

    #[test]
    fn errors_from_value_types_are_relabelled_with_the_field_name() {
        let err = parse(Entity::Client, "email", json!("x@"))
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("email: `x@`"), "{err}");
        let err = parse(Entity::Client, "languages", json!(["fi", "klingon"]))
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("languages: `klingon`"), "{err}");
        let err = parse(Entity::Client, "family_name", json!("  "))
            .unwrap_err()
            .to_string();
        assert_eq!(err, "family_name: must not be empty");
        let err = parse(Entity::Client, "consent_by", json!("bob"))
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("consent_by: `bob` is not an id"), "{err}");
    }

    #[test]
    fn enumerations_and_enumeration_sets_accept_only_their_names() {
        assert!(parse(Entity::Client, "gender", json!("non_binary")).is_ok());
        assert!(parse(Entity::Client, "gender", json!("Non-binary")).is_err());
        let topics = parse(
            Entity::Contact,
            "topics",
            json!(["housing", "employment", "housing"]),
        )
        .unwrap();
        assert_eq!(topics.to_json(), json!(["employment", "housing"]));
        let err = parse(Entity::Contact, "referrals", json!(["kela", "santa"]))
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("referrals: unknown value `santa`"), "{err}");
    }

    #[test]
    fn dates_and_date_times_use_their_wire_formats() {
        let date = parse(Entity::Contact, "follow_up_on", json!("2026-12-01")).unwrap();
        assert_eq!(date.to_json(), json!("2026-12-01"));
        assert!(parse(Entity::Contact, "follow_up_on", json!("1.12.2026")).is_err());
        let at = parse(
            Entity::Contact,
            "occurred_at",
            json!("2026-11-26T09:30:00+02:00"),
        )
        .unwrap();
        assert_eq!(at.to_json(), json!("2026-11-26T09:30:00+02:00"));
        let err = parse(Entity::Contact, "occurred_at", json!("2026-11-26 09:30"))
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("occurred_at:"), "{err}");
    }

    #[test]
    fn null_clears_optional_fields_and_empties_sets_but_not_required_fields() {
        assert!(
            parse(Entity::Client, "phone", Json::Null)
                .unwrap()
                .is_null()
        );
        assert_eq!(
            parse(Entity::Client, "tags", Json::Null).unwrap().to_json(),
            json!([])
        );
        let err = parse(Entity::Client, "given_name", Json::Null).unwrap_err();
        assert_eq!(err.to_string(), "given_name: a value is required");
    }

    #[test]
    fn unknown_fields_and_entities_are_named() {
        assert_eq!(
            field_spec(Entity::Client, "shoe_size")
                .unwrap_err()
                .to_string(),
            "unknown field `shoe_size` of client"
        );
        assert_eq!(
            Entity::parse("visitor").unwrap_err().to_string(),
            "unknown entity `visitor` (expected `client` or `contact`)"
        );
    }

    #[test]
    fn a_record_needs_its_required_fields_and_valid_values() {
        let id = RecordId::parse("0190f0c4-8d5e-7c3a-9f1e-2b3c4d5e6f70").unwrap();
        let mut input = BTreeMap::new();
        input.insert("family_name".to_owned(), json!("Warsame"));
        let err = Record::create(Entity::Client, id, &input, ctx()).unwrap_err();
        assert_eq!(err.to_string(), "given_name: a value is required");
        input.insert("given_name".to_owned(), json!("Amina"));
        input.insert("languages".to_owned(), json!(["so", "fi"]));
        let record = Record::create(Entity::Client, id, &input, ctx()).unwrap();
        assert_eq!(record.get("languages").to_json(), json!(["fi", "so"]));
        assert_eq!(record.get("deleted").as_bool(), Some(false));
        assert!(record.get("phone").is_null());
        assert_eq!(record.to_json()["given_name"], json!("Amina"));
    }

    #[test]
    fn stored_json_text_parses_back_to_the_same_value() {
        let spec = field_spec(Entity::Client, "languages").unwrap();
        let value = spec.parse_json(&json!(["ar", "ru"]), ctx()).unwrap();
        assert_eq!(
            spec.parse_json_str(&value.to_json_string(), ctx()).unwrap(),
            value
        );
    }
}
