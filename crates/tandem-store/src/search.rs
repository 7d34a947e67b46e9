//! Client search. Names, nickname and phone numbers are kept in an FTS5 table whose
//! `unicode61` tokenizer folds case and removes diacritics, so `hakkinen` finds `Häkkinen`,
//! and which splits words in any script (Cyrillic, Arabic, ...). Every word typed must
//! match the start of a word of the client.

use rusqlite::{Connection, params};
use tandem_domain::{Entity, Record, RecordId};

use crate::{Store, StoreError};

/// Most results a search returns.
pub const MAX_SEARCH_RESULTS: usize = 50;

/// The client fields the search row is made of; an edit or a pulled write of any other field
/// leaves the row alone.
pub(crate) const SEARCH_FIELDS: [&str; 4] = ["given_name", "family_name", "nickname", "phone"];

/// Writes (or rewrites) the search row of one client. The row is found through its record
/// id's unique index, and the triggers of `client_search_rows` update the FTS5 index for that
/// row only, and not at all when the text is unchanged.
pub(crate) fn index_client(conn: &Connection, client: &Record) -> Result<(), StoreError> {
    let text = |field| client.get(field).as_text().unwrap_or_default();
    let names = [text("given_name"), text("family_name"), text("nickname")].join(" ");
    conn.prepare_cached(
        "INSERT INTO client_search_rows (record_id, names, phone) VALUES (?1, ?2, ?3)
         ON CONFLICT (record_id) DO UPDATE SET names = excluded.names, phone = excluded.phone
         WHERE names IS NOT excluded.names OR phone IS NOT excluded.phone",
    )?
    .execute(params![
        client.id().to_string(),
        names,
        phone_forms(client.get("phone").as_text())
    ])?;
    Ok(())
}

/// The ways a phone number is typed into a search box: the international digits and, for
/// Finnish numbers, the national form with its leading 0.
fn phone_forms(phone: Option<&str>) -> String {
    let Some(e164) = phone else {
        return String::new();
    };
    let digits = e164.trim_start_matches('+');
    match digits.strip_prefix("358") {
        Some(national) => format!("{digits} 0{national}"),
        None => digits.to_owned(),
    }
}

/// Turns what the user typed into an FTS5 query: each word becomes a quoted prefix term, so
/// no character of the input is FTS5 syntax. Phone-like input is compacted first
/// (`040 123` and `040-123` find `0401234567`).
fn fts_query(input: &str) -> Option<String> {
    let looks_like_phone = input
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '-' | '+' | '(' | ')'))
        && input.chars().any(|c| c.is_ascii_digit());
    let words: Vec<String> = if looks_like_phone {
        vec![input.chars().filter(char::is_ascii_digit).collect()]
    } else {
        input
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(str::to_owned)
            .collect()
    };
    if words.is_empty() {
        return None;
    }
    Some(
        words
            .iter()
            .map(|w| format!("\"{}\"*", w.replace('"', "")))
            .collect::<Vec<_>>()
            .join(" AND "),
    )
}

impl Store {
    /// Clients whose names, nickname or phone match every word of `input`, best match
    /// first, without tombstones and merged duplicates.
    ///
    /// Tombstones and merged duplicates keep their search rows (a merge can be undone), so
    /// matches are read in ranked batches until [`MAX_SEARCH_RESULTS`] live clients are found
    /// or the matches run out: gone clients never take the place of live ones.
    pub fn search_clients(&self, input: &str) -> Result<Vec<Record>, StoreError> {
        let Some(query) = fts_query(input) else {
            return Ok(Vec::new());
        };
        let mut statement = self.conn.prepare_cached(
            "SELECT r.record_id FROM client_search JOIN client_search_rows r ON r.id = client_search.rowid
             WHERE client_search MATCH ?1 ORDER BY rank LIMIT ?2 OFFSET ?3",
        )?;
        let batch = MAX_SEARCH_RESULTS as i64;
        let mut found = Vec::with_capacity(MAX_SEARCH_RESULTS);
        for offset in (0..).step_by(MAX_SEARCH_RESULTS) {
            let ids = statement
                .query_map(params![query, batch, offset], |row| row.get::<_, String>(0))?
                .collect::<Result<Vec<_>, _>>()?;
            let last_batch = ids.len() < MAX_SEARCH_RESULTS;
            for id in ids {
                if let Some(client) = self.record(Entity::Client, RecordId::parse(&id)?)?
                    && !client.is_deleted()
                    && client.get("merged_into").is_null()
                {
                    found.push(client);
                    if found.len() == MAX_SEARCH_RESULTS {
                        return Ok(found);
                    }
                }
            }
            if last_batch {
                break;
            }
        }
        Ok(found)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_words_become_quoted_prefix_terms() {
        assert_eq!(
            fts_query("Häkki Ami").as_deref(),
            Some("\"Häkki\"* AND \"Ami\"*")
        );
        assert_eq!(
            fts_query("a\"b OR c").as_deref(),
            Some("\"a\"* AND \"b\"* AND \"OR\"* AND \"c\"*")
        );
        assert_eq!(fts_query("  --  "), None);
    }

    #[test]
    fn phone_like_input_is_compacted_into_one_term() {
        assert_eq!(fts_query("040 123-45").as_deref(), Some("\"04012345\"*"));
        assert_eq!(fts_query("+358 40").as_deref(), Some("\"35840\"*"));
    }

    #[test]
    fn finnish_numbers_are_indexed_in_both_forms() {
        assert_eq!(
            phone_forms(Some("+358401234567")),
            "358401234567 0401234567"
        );
        assert_eq!(phone_forms(Some("+252612345678")), "252612345678");
        assert_eq!(phone_forms(None), "");
    }
}
