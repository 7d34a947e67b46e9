//! The Tauri commands. Each is thin: take the state, convert the input, make one call into a
//! crate, map the result to a DTO. The clock is read here, at the edge, and passed in.

pub mod clients;
pub mod contacts;
pub mod drafts;
pub mod duplicates;
pub mod privacy;
pub mod session;
pub mod settings;
pub mod sync;
pub mod updates;
pub mod window;

use chrono::{DateTime, Local, NaiveDate, NaiveTime, TimeZone, Utc};
use tandem_domain::{Entity, RecordId};
use tandem_store::{EditContext, FormSave};

use crate::dto::{EditResult, FieldValues, RecordRef};
use crate::error::CommandError;
use crate::state::AppState;

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

/// The first moment of the first of the `days` days (at least one) that end with `today`, in
/// `zone`.
fn start_of_days<Tz: TimeZone>(today: NaiveDate, days: u32, zone: &Tz) -> DateTime<Utc> {
    let back = chrono::Days::new(u64::from(days.saturating_sub(1)));
    start_of_day(today.checked_sub_days(back).unwrap_or(today), zone)
}

/// The first moment of `day` in `zone`: its midnight, or where a clock put forward skips
/// midnight, the first whole hour after it; a day the zone skipped whole begins when the
/// next one does.
fn start_of_day<Tz: TimeZone>(day: NaiveDate, zone: &Tz) -> DateTime<Utc> {
    day.iter_days()
        .take(3)
        .find_map(|day| {
            (0..24).find_map(|hour| {
                let start = day.and_hms_opt(hour, 0, 0)?;
                zone.from_local_datetime(&start).earliest()
            })
        })
        .map_or_else(
            || day.and_time(NaiveTime::MIN).and_utc(),
            |start| start.to_utc(),
        )
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

/// Creates a record of `entity` from a form's values (validated, with its history and outbox
/// rows, in one transaction that forgets the form's kept draft, `draft_form`) and schedules a
/// sync.
fn create_record(
    state: &AppState,
    entity: Entity,
    fields: &FieldValues,
    draft_form: Option<&str>,
) -> Result<RecordRef, CommandError> {
    let id = state.with_store(|store| {
        let edit = EditContext::at(now());
        match draft_form {
            Some(form) => store.create_record_from_draft(entity, fields, edit, form),
            None => store.create_record(entity, fields, edit),
        }
    })?;
    state.sync.local_save();
    Ok(RecordRef { id: id.to_string() })
}

/// Writes the fields an edit form changed (every one validated, with its history and outbox
/// rows, in one transaction) and schedules a sync. `form`: the values the form was filled
/// with (a field changed meanwhile refuses the save), its kept draft (forgotten with the
/// save), and whether the record must be deleted or not (checked in the save's transaction,
/// so that a sync's deletion cannot come between the check and the write).
fn edit_fields(
    state: &AppState,
    entity: Entity,
    id: RecordId,
    fields: &FieldValues,
    form: FormSave<'_>,
) -> Result<EditResult, CommandError> {
    let outcome = state.with_store(|store| {
        store.edit_record_from_form(entity, id, fields, EditContext::at(now()), form)
    })?;
    state.sync.local_save();
    Ok(EditResult {
        changed_fields: outcome
            .changed_fields
            .iter()
            .map(|f| (*f).to_owned())
            .collect(),
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use chrono::{FixedOffset, NaiveDate};
    use tandem_sync::Provisioning;
    use tauri::test::{MockRuntime, mock_builder, mock_context, noop_assets};

    use crate::settings::UserSettings;
    use crate::state::AppState;

    /// An unlocked app on Tauri's mock runtime over a store of its own.
    pub(crate) fn unlocked_app() -> (tauri::App<MockRuntime>, tempfile::TempDir) {
        let data_dir = tempfile::tempdir().unwrap();
        let state = AppState::new(
            data_dir.path().to_owned(),
            Ok(Provisioning::default()),
            UserSettings::default(),
        );
        state.set_unlocked(true);
        let app = mock_builder()
            .manage(state)
            .build(mock_context(noop_assets()))
            .unwrap();
        (app, data_dir)
    }

    #[test]
    fn the_last_days_start_at_the_first_ones_midnight_across_a_month_end() {
        let helsinki_winter = FixedOffset::east_opt(2 * 3600).unwrap();
        let first_of_december = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
        let since = |days| super::start_of_days(first_of_december, days, &helsinki_winter);
        assert_eq!(since(1).to_rfc3339(), "2026-11-30T22:00:00+00:00");
        assert_eq!(since(7).to_rfc3339(), "2026-11-24T22:00:00+00:00");
        assert_eq!(since(30).to_rfc3339(), "2026-11-01T22:00:00+00:00");
    }

    #[test]
    fn a_day_starts_at_its_midnight_in_the_laptops_zone() {
        let helsinki_winter = FixedOffset::east_opt(2 * 3600).unwrap();
        let day = NaiveDate::from_ymd_opt(2026, 12, 7).unwrap();
        let start = super::start_of_day(day, &helsinki_winter);
        assert_eq!(start.to_rfc3339(), "2026-12-06T22:00:00+00:00");
        assert_eq!(
            super::start_of_day(day, &chrono::Utc).to_rfc3339(),
            "2026-12-07T00:00:00+00:00"
        );
    }
}
