//! The consent gate (data minimisation): fields of special-category data (GDPR art. 9:
//! disability, origin) may hold a value only while the client has a lawful basis recorded.
//! The one rule, used by the laptop store on every local write and by the server on every
//! pushed change.

use crate::fields::{Entity, FieldSpec, Record, fields_of};
use crate::{DomainError, Rule};

/// The field that records the lawful basis of keeping a client's data.
pub const LAWFUL_BASIS_FIELD: &str = "lawful_basis";

/// Whether a write of this field can break the rule: a special-category field, or the lawful
/// basis itself (clearing it).
pub fn is_consent_gated(spec: &FieldSpec) -> bool {
    spec.special_category || (spec.entity == Entity::Client && spec.name == LAWFUL_BASIS_FIELD)
}

/// The fields the rule looks at: the lawful basis and every special-category field.
pub fn consent_gate_fields(entity: Entity) -> impl Iterator<Item = &'static FieldSpec> {
    fields_of(entity)
        .iter()
        .filter(|spec| is_consent_gated(spec))
}

/// Checks the rule over a write: `after` is the record as the write leaves it, `written` the
/// fields the write changed. Only a breach the write causes is reported, so a record that
/// already broke the rule (data from before it) can still be edited elsewhere; the error
/// names the field written: the special-category field, or `lawful_basis` when it is cleared.
pub fn check_lawful_basis(after: &Record, written: &[&str]) -> Result<(), DomainError> {
    if !after.get(LAWFUL_BASIS_FIELD).is_null() {
        return Ok(());
    }
    let mut holding = fields_of(after.entity())
        .iter()
        .filter(|spec| spec.special_category && !after.get(spec.name).is_null());
    let basis_cleared = written.contains(&LAWFUL_BASIS_FIELD);
    for spec in holding.by_ref() {
        if written.contains(&spec.name) {
            return Err(DomainError::invalid(
                spec.name,
                Rule::LawfulBasisRequired,
                "special-category data can be recorded only when the client has a lawful \
                 basis: record lawful_basis first",
            ));
        }
        if basis_cleared {
            return Err(DomainError::invalid(
                LAWFUL_BASIS_FIELD,
                Rule::LawfulBasisInUse {
                    field: spec.name.to_owned(),
                },
                format!(
                    "cannot be cleared while {} holds special-category data: clear {} first",
                    spec.name, spec.name
                ),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fields::{ValidationContext, field_spec};
    use crate::ids::RecordId;
    use chrono::NaiveDate;
    use serde_json::{Value as Json, json};
    use std::collections::BTreeMap;

    fn client(values: Json) -> Record {
        let mut input: BTreeMap<String, Json> = serde_json::from_value(values).unwrap();
        input.insert("given_name".into(), json!("Amina"));
        Record::create(
            Entity::Client,
            RecordId::parse("0190f0c4-8d5e-7c3a-9f1e-2b3c4d5e6f70").unwrap(),
            &input,
            ValidationContext::new(NaiveDate::from_ymd_opt(2026, 11, 26).unwrap()),
        )
        .unwrap()
    }

    #[test]
    fn the_gated_fields_are_disability_origin_and_the_lawful_basis() {
        let gated: Vec<_> = consent_gate_fields(Entity::Client)
            .map(|spec| spec.name)
            .collect();
        assert_eq!(
            gated,
            [
                "third_country_national",
                "foreign_background",
                "disability",
                "lawful_basis"
            ]
        );
        assert_eq!(consent_gate_fields(Entity::Contact).count(), 0);
        assert!(!is_consent_gated(
            field_spec(Entity::Client, "consent").unwrap()
        ));
    }

    #[test]
    fn a_special_category_value_needs_a_lawful_basis() {
        for field in ["disability", "third_country_national", "foreign_background"] {
            for answer in ["yes", "no", "declined"] {
                let err =
                    check_lawful_basis(&client(json!({ field: answer })), &[field]).unwrap_err();
                assert!(
                    err.to_string()
                        .starts_with(&format!("{field}: special-category data")),
                    "{err}"
                );
                assert!(err.to_string().contains("record lawful_basis first"));
                assert_eq!(err.rule(), Some(Rule::LawfulBasisRequired));
                let with_basis = client(json!({ field: answer, "lawful_basis": "public_task" }));
                assert_eq!(check_lawful_basis(&with_basis, &[field]), Ok(()));
            }
        }
    }

    #[test]
    fn clearing_the_basis_is_refused_while_special_category_data_remains() {
        let record = client(json!({ "disability": "no" }));
        let err = check_lawful_basis(&record, &["lawful_basis"]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "lawful_basis: cannot be cleared while disability holds special-category data: \
             clear disability first"
        );
        assert_eq!(
            err.rule(),
            Some(Rule::LawfulBasisInUse {
                field: "disability".to_owned()
            })
        );
        let cleared = client(json!({}));
        assert_eq!(
            check_lawful_basis(&cleared, &["lawful_basis", "disability"]),
            Ok(())
        );
    }

    #[test]
    fn a_write_elsewhere_on_a_record_that_already_breaks_the_rule_is_not_refused() {
        let old = client(json!({ "disability": "yes" }));
        assert_eq!(check_lawful_basis(&old, &["nickname"]), Ok(()));
    }
}
