//! The users of the team, as the server names them: reference data that every sync replaces
//! whole, so that a contact's `coach_id`, a client's `consent_by` and a change's author can be
//! shown by name. Nothing on a laptop edits a user.

use rusqlite::params;
use tandem_domain::UserId;
use uuid::Uuid;

use crate::{Store, StoreError};

/// A member of the team as the server lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TeamUser {
    /// The value of a contact's `coach_id`, of a client's `consent_by`.
    pub id: Uuid,
    /// The name the user signs in with.
    pub username: String,
    /// `coach`, `team_lead` or `admin`, as the server names roles.
    pub role: String,
}

impl Store {
    /// Replaces the team's users with the server's list, in one transaction.
    pub fn replace_team_users(&mut self, users: &[TeamUser]) -> Result<(), StoreError> {
        let tx = self.conn.write_transaction()?;
        tx.execute("DELETE FROM users", [])?;
        {
            let mut insert =
                tx.prepare("INSERT INTO users (id, username, role) VALUES (?1, ?2, ?3)")?;
            for user in users {
                insert.execute(params![user.id.to_string(), user.username, user.role])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Every member of the team the last sync brought, by username.
    pub fn team_users(&self) -> Result<Vec<TeamUser>, StoreError> {
        let mut statement = self
            .conn
            .prepare_cached("SELECT id, username, role FROM users")?;
        let rows = statement.query_map([], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, String>(2)?,
            ))
        })?;
        let mut users = Vec::new();
        for row in rows {
            let (id, username, role) = row?;
            let id = *UserId::parse(&id)?.as_uuid();
            users.push(TeamUser { id, username, role });
        }
        // By username as people read it (any letter's case ignored), then id.
        users.sort_by_cached_key(|user| (user.username.to_lowercase(), user.id));
        Ok(users)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connection::test_store;

    fn user(n: u128, username: &str, role: &str) -> TeamUser {
        TeamUser {
            id: Uuid::from_u128(n),
            username: username.to_owned(),
            role: role.to_owned(),
        }
    }

    #[test]
    fn each_list_replaces_the_last_and_reads_back_by_username() {
        let (_dir, mut store) = test_store();
        assert_eq!(store.team_users().unwrap(), []);
        store
            .replace_team_users(&[
                user(1, "lead1", "team_lead"),
                user(2, "Coach2", "coach"),
                user(3, "coach1", "coach"),
            ])
            .unwrap();
        let names: Vec<_> = store
            .team_users()
            .unwrap()
            .into_iter()
            .map(|user| user.username)
            .collect();
        assert_eq!(names, ["coach1", "Coach2", "lead1"]);
        let left = [user(1, "lead1", "team_lead")];
        store.replace_team_users(&left).unwrap();
        assert_eq!(
            store.team_users().unwrap(),
            left,
            "the server's list, whole"
        );
    }
}
