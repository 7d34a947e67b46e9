//! What this laptop holds for the participant report: the current values of the fields the
//! report reads and the history of the client fields measured at participant_start (local
//! edits and pulled writes alike, each with its HLC). The report itself is tandem-reports'.

use tandem_domain::{Entity, RecordId};
use tandem_reports::{CLIENT_FIELDS, CONTACT_FIELDS, FIELDS_AT_START, ReportData, sql_field_list};

use crate::{Store, StoreError};

impl Store {
    /// Every client and contact of this store as the participant report reads them.
    pub fn report_data(&self) -> Result<ReportData, StoreError> {
        let mut data = ReportData::new();
        let mut values = self.conn.prepare(&format!(
            "SELECT entity, record_id, field, value FROM record_fields
             WHERE (entity = 'client' AND field IN ({}))
                OR (entity = 'contact' AND field IN ({}))",
            sql_field_list(CLIENT_FIELDS),
            sql_field_list(CONTACT_FIELDS)
        ))?;
        let mut rows = values.query([])?;
        while let Some(row) = rows.next()? {
            let entity = Entity::parse(&row.get::<_, String>(0)?)?;
            let record_id = RecordId::parse(&row.get::<_, String>(1)?)?;
            let (field, value): (String, String) = (row.get(2)?, row.get(3)?);
            data.add_value(entity, record_id, &field, &value)?;
        }
        let mut history = self.conn.prepare(&format!(
            "SELECT record_id, field, value, hlc FROM field_history
             WHERE entity = 'client' AND field IN ({}) ORDER BY id",
            sql_field_list(FIELDS_AT_START)
        ))?;
        let mut rows = history.query([])?;
        while let Some(row) = rows.next()? {
            let record_id = RecordId::parse(&row.get::<_, String>(0)?)?;
            let (field, value, hlc): (String, String, String) =
                (row.get(1)?, row.get(2)?, row.get(3)?);
            data.add_history(record_id, &field, &value, &hlc)?;
        }
        Ok(data)
    }
}
