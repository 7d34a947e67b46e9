//! Identifier newtypes. Records use UUIDv7 (time-ordered); the caller creates them at the edge,
//! since making one reads the clock.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::DomainError;

macro_rules! uuid_id {
    ($(#[$doc:meta])* $name:ident, $kind:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            /// Wraps an existing UUID.
            pub const fn from_uuid(uuid: Uuid) -> Self {
                Self(uuid)
            }

            /// The UUID inside.
            pub const fn as_uuid(&self) -> &Uuid {
                &self.0
            }

            /// Parses the hyphenated form, naming the kind of id when it is not a UUID.
            pub fn parse(text: &str) -> Result<Self, DomainError> {
                Uuid::parse_str(text.trim())
                    .map(Self)
                    .map_err(|_| DomainError::InvalidId { kind: $kind, value: text.to_owned() })
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.hyphenated().fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = DomainError;
            fn from_str(text: &str) -> Result<Self, Self::Err> {
                Self::parse(text)
            }
        }
    };
}

uuid_id!(
    /// A synced record (client or contact).
    RecordId, "record"
);
uuid_id!(
    /// One change a device made to one field; the idempotency key of a push.
    ChangeId, "change"
);
uuid_id!(
    /// A user of the central server.
    UserId, "user"
);
uuid_id!(
    /// A laptop registered with the server.
    DeviceId, "device"
);
uuid_id!(
    /// A team of coaches; every record belongs to one.
    TeamId, "team"
);
uuid_id!(
    /// A site (NGO premises) where contacts happen.
    SiteId, "site"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_through_their_text_form() {
        let id = RecordId::parse("0190f0c4-8d5e-7c3a-9f1e-2b3c4d5e6f70").unwrap();
        assert_eq!(id.to_string().parse::<RecordId>().unwrap(), id);
    }

    #[test]
    fn an_id_that_is_not_a_uuid_is_refused_with_its_kind() {
        let err = ClientLike::parse("nope").unwrap_err();
        assert_eq!(err.to_string(), "invalid user id `nope`: expected a UUID");
    }

    type ClientLike = UserId;
}
