//! The TypeScript side of the UI boundary, generated from Rust: the declarations of every
//! command input and output (ts-rs) and the field catalogue of tandem-domain (kinds,
//! enumerations), written to `ui/src/ipc/generated/`. A test fails when the committed files
//! are stale; `TANDEM_UPDATE_GENERATED=1 cargo test -p tandem-desktop generated` rewrites them.

use serde_json::{Value as Json, json};
use tandem_domain::{Entity, FieldKind, fields_of};
use ts_rs::{Config, TS};

use crate::dto::*;
use crate::error::{CommandError, ErrorKind};

/// Where the generated files live, relative to the repository.
pub const GENERATED_DIR: &str = "ui/src/ipc/generated";

const HEADER: &str = "// Generated from Rust by src-tauri/src/typescript.rs; do not edit.\n// Regenerate: TANDEM_UPDATE_GENERATED=1 cargo test -p tandem-desktop generated\n";

/// `types.ts`: one exported declaration per DTO.
pub fn typescript_declarations() -> String {
    let cfg = Config::new().with_large_int("number");
    let declarations = [
        ErrorKind::decl(&cfg),
        tandem_domain::Rule::decl(&cfg),
        CommandError::decl(&cfg),
        ClientSummary::decl(&cfg),
        ContactView::decl(&cfg),
        ContactDetail::decl(&cfg),
        DeletedContactView::decl(&cfg),
        FormDraftView::decl(&cfg),
        SiteView::decl(&cfg),
        SitesView::decl(&cfg),
        UserNamesView::decl(&cfg),
        ClientDetail::decl(&cfg),
        ClientDraft::decl(&cfg),
        RecordEdit::decl(&cfg),
        ContactDraft::decl(&cfg),
        RecordRef::decl(&cfg),
        EditResult::decl(&cfg),
        FollowUpItem::decl(&cfg),
        LoggedContact::decl(&cfg),
        LoggedContacts::decl(&cfg),
        FollowUpGroup::decl(&cfg),
        FollowUpsDue::decl(&cfg),
        SessionState::decl(&cfg),
        SignInInput::decl(&cfg),
        UnlockInput::decl(&cfg),
        SyncStatusView::decl(&cfg),
        CommandErrorView::decl(&cfg),
        PendingChangeView::decl(&cfg),
        tandem_protocol::RejectCode::decl(&cfg),
        RejectedChangeView::decl(&cfg),
        ConflictView::decl(&cfg),
        ConflictCandidate::decl(&cfg),
        UnsyncedView::decl(&cfg),
        ConflictResolution::decl(&cfg),
        DeviceHealthView::decl(&cfg),
        TeamDevicesView::decl(&cfg),
        DuplicateClientView::decl(&cfg),
        DuplicatePairView::decl(&cfg),
        DuplicateMergeView::decl(&cfg),
        DuplicatesView::decl(&cfg),
        DuplicatePairInput::decl(&cfg),
        InterfaceLanguage::decl(&cfg),
        SettingsView::decl(&cfg),
        SettingsInput::decl(&cfg),
        SyncEvent::decl(&cfg),
        crate::updates::UpdateState::decl(&cfg),
        crate::updates::UpdateStatusView::decl(&cfg),
        tandem_protocol::CategoryCount::decl(&cfg),
        tandem_protocol::ParticipantReport::decl(&cfg),
        ReportRequest::decl(&cfg),
        ReportSource::decl(&cfg),
        ReportView::decl(&cfg),
        ExportFormatInput::decl(&cfg),
        ErasureView::decl(&cfg),
        AuditRequest::decl(&cfg),
        AuditEntryView::decl(&cfg),
        AuditPageView::decl(&cfg),
    ];
    let mut out = String::from(HEADER);
    out.push_str(
        "\nexport type JsonValue = number | string | boolean | Array<JsonValue> | { [key in string]?: JsonValue } | null;\n",
    );
    for declaration in declarations {
        out.push('\n');
        out.push_str("export ");
        out.push_str(&declaration);
        out.push('\n');
    }
    out
}

fn kind_json(kind: FieldKind) -> (String, Vec<&'static str>) {
    let (name, values): (&str, &[&'static str]) = match kind {
        FieldKind::PersonName => ("person_name", &[]),
        FieldKind::ShortText => ("short_text", &[]),
        FieldKind::LongText => ("long_text", &[]),
        FieldKind::Year => ("year", &[]),
        FieldKind::Integer { .. } => ("integer", &[]),
        FieldKind::Bool => ("bool", &[]),
        FieldKind::Enumeration(values) => ("enumeration", values),
        FieldKind::EnumerationSet(values) => ("enumeration_set", values),
        FieldKind::Language => ("language", &[]),
        FieldKind::LanguageSet => ("language_set", &[]),
        FieldKind::TagSet => ("tag_set", &[]),
        FieldKind::Phone => ("phone", &[]),
        FieldKind::Email => ("email", &[]),
        FieldKind::Date => ("date", &[]),
        FieldKind::DateTime => ("date_time", &[]),
        FieldKind::Id => ("id", &[]),
    };
    (name.to_owned(), values.to_vec())
}

/// `catalogue.ts`: every field of every entity with its kind, policy and allowed values, and
/// every code of a refused change.
pub fn catalogue_module() -> String {
    let mut out = String::from(HEADER);
    out.push_str("import type { RejectCode } from './types';\n");
    out.push_str("\nexport type FieldInfo = {\n  name: string;\n  kind: string;\n  policy: string;\n  required: boolean;\n  special_category: boolean;\n  values: readonly string[];\n  min?: number;\n  max?: number;\n};\n");
    for entity in Entity::ALL {
        let fields: Vec<Json> = fields_of(entity)
            .iter()
            .map(|spec| {
                let (kind, values) = kind_json(spec.kind);
                let mut field = json!({
                    "name": spec.name,
                    "kind": kind,
                    "policy": spec.policy.as_str(),
                    "required": spec.required,
                    "special_category": spec.special_category,
                    "values": values,
                });
                if let FieldKind::Integer { min, max } = spec.kind {
                    field["min"] = json!(min);
                    field["max"] = json!(max);
                }
                field
            })
            .collect();
        let text = serde_json::to_string_pretty(&fields).expect("JSON of plain values");
        out.push_str(&format!(
            "\nexport const {}_FIELDS: readonly FieldInfo[] = {text};\n",
            entity.as_str().to_uppercase()
        ));
    }
    let codes: Vec<&str> = tandem_protocol::RejectCode::ALL
        .iter()
        .map(|code| code.as_str())
        .collect();
    out.push_str(&format!(
        "\n/** Every code of a refused change (the UI explains each). */\nexport const REJECT_CODES: readonly RejectCode[] = {};\n",
        serde_json::to_string_pretty(&codes).expect("JSON of plain values")
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn check(name: &str, expected: &str) {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join(GENERATED_DIR)
            .join(name);
        if std::env::var_os("TANDEM_UPDATE_GENERATED").is_some() {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, expected).unwrap();
            return;
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == expected,
            "{} is stale: regenerate it with TANDEM_UPDATE_GENERATED=1 cargo test -p tandem-desktop generated",
            path.display()
        );
    }

    #[test]
    fn generated_typescript_types_match_the_rust_dtos() {
        check("types.ts", &typescript_declarations());
    }

    #[test]
    fn generated_field_catalogue_matches_tandem_domain() {
        check("catalogue.ts", &catalogue_module());
    }

    /// `RejectCode::ALL` is written by hand; the TypeScript type is derived from the enum.
    /// A code missing from `ALL` would read as `other` on laptops and have no text in the UI.
    #[test]
    fn every_reject_code_of_the_enum_is_in_reject_code_all() {
        let declaration = tandem_protocol::RejectCode::decl(&Config::new());
        let in_enum: Vec<&str> = declaration.split('"').skip(1).step_by(2).collect();
        let in_all: Vec<&str> = tandem_protocol::RejectCode::ALL
            .iter()
            .map(|code| code.as_str())
            .collect();
        assert_eq!(in_enum, in_all, "{declaration}");
    }
}
