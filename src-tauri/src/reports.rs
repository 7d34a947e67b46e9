//! The Reports screen's figures: the server's report of the whole team when it answers,
//! otherwise the same report computed from this laptop's store, labelled as such.

use tandem_reports::ReportPeriod;
use tandem_sync::SyncError;

use crate::dto::{ReportRequest, ReportSource, ReportView};
use crate::error::{CommandError, ErrorKind};
use crate::state::AppState;
use crate::sync_bridge::signed_in_connection;

/// The participant report of a period (team leads).
pub async fn participant_report(
    state: &AppState,
    request: &ReportRequest,
) -> Result<ReportView, CommandError> {
    if !state.is_unlocked() {
        return Err(CommandError::new(ErrorKind::Locked, "unlock first"));
    }
    let period = ReportPeriod::parse(Some(&request.from), Some(&request.to)).map_err(|error| {
        let field = match &error {
            tandem_reports::ReportError::InvalidDate { bound, .. } => *bound,
            _ => "to",
        };
        CommandError::invalid_field(field, error.to_string())
    })?;
    let (store, transport) = signed_in_connection(state)?;
    let team_lead = store.sign_in()?.is_some_and(|s| s.role == "team_lead");
    if !team_lead {
        return Err(CommandError::new(
            ErrorKind::NotAllowed,
            "only a team lead produces participant reports",
        ));
    }
    let (source, offline_reason, report) = match transport
        .participant_report(period.from(), period.to())
        .await
    {
        Ok(report) => (ReportSource::Server, None, report),
        Err(error @ SyncError::Offline { .. }) => {
            let data = store.report_data()?;
            (
                ReportSource::Laptop,
                Some(error.to_string()),
                tandem_reports::participant_report(&data, period),
            )
        }
        Err(other) => return Err(other.into()),
    };
    Ok(ReportView {
        source,
        offline_reason,
        csv: tandem_reports::to_csv(&report, &store.site_names()?),
        report,
    })
}
