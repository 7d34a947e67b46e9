//! Turning records into the views the screens show: summaries, contact lines, follow-ups by
//! when they are due. Mostly pure functions over `Record`s (the date is passed in), tested
//! without a store; the lists that a screen asks the store for (recent clients, follow-ups
//! due, the coach's contacts of the last days) take it, are tested over a store here, and
//! their queries in tandem-store.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Duration, NaiveDate, SecondsFormat, Utc};
use tandem_domain::{Entity, Hlc, Record, RecordId};
use tandem_store::{DueOrder, Store, StoreError};
use uuid::Uuid;

use crate::dto::{
    ClientDetail, ClientSummary, ContactView, DeletedContactView, FieldValues, FollowUpGroup,
    FollowUpItem, FollowUpsDue, LoggedContact, LoggedContacts, SiteView, SitesView,
};

/// How many clients the "recent clients" list shows.
pub const RECENT_CLIENTS: usize = 8;

fn text(record: &Record, field: &str) -> Option<String> {
    record.get(field).as_text().map(str::to_owned)
}

fn set(record: &Record, field: &str) -> Vec<String> {
    record
        .get(field)
        .as_set()
        .map(|members| members.iter().cloned().collect())
        .unwrap_or_default()
}

/// A client as a list line.
pub fn client_summary(client: &Record) -> ClientSummary {
    ClientSummary {
        id: client.id().to_string(),
        given_name: text(client, "given_name").unwrap_or_default(),
        family_name: text(client, "family_name"),
        nickname: text(client, "nickname"),
        birth_year: client.get("birth_year").as_int(),
        phone: text(client, "phone"),
        languages: set(client, "languages"),
        interpreter_needed: client.get("interpreter_needed").as_bool() == Some(true),
        preferred_language: text(client, "preferred_language"),
    }
}

/// A contact as a timeline line.
pub fn contact_view(contact: &Record) -> ContactView {
    ContactView {
        id: contact.id().to_string(),
        client_id: text(contact, "client_id"),
        occurred_at: contact
            .get("occurred_at")
            .as_date_time()
            .map(|at| at.to_rfc3339())
            .unwrap_or_default(),
        channel: text(contact, "channel"),
        site: text(contact, "site"),
        coach_id: text(contact, "coach_id"),
        duration_min: contact.get("duration_min").as_int(),
        topics: set(contact, "topics"),
        referrals: set(contact, "referrals"),
        service_language: text(contact, "service_language"),
        interpreter_used: contact.get("interpreter_used").as_bool() == Some(true),
        summary: text(contact, "summary"),
        follow_up_on: contact
            .get("follow_up_on")
            .as_date()
            .map(|d| d.format("%Y-%m-%d").to_string()),
        follow_up_done: contact.get("follow_up_done").as_bool() == Some(true),
    }
}

/// Every field of a record by wire name, as JSON.
pub fn field_values(record: &Record) -> FieldValues {
    record
        .values()
        .map(|(name, value)| (name.to_owned(), value.to_json()))
        .collect()
}

/// The client profile: the client, its contacts, its open follow-ups and its deleted
/// contacts.
pub fn client_detail(
    client: &Record,
    contacts: &[&Record],
    deleted_contacts: Vec<DeletedContactView>,
) -> ClientDetail {
    let contacts: Vec<ContactView> = contacts.iter().map(|c| contact_view(c)).collect();
    let mut follow_ups: Vec<ContactView> = contacts
        .iter()
        .filter(|c| c.follow_up_on.is_some() && !c.follow_up_done)
        .cloned()
        .collect();
    follow_ups.sort_by(|a, b| a.follow_up_on.cmp(&b.follow_up_on));
    ClientDetail {
        id: client.id().to_string(),
        fields: field_values(client),
        contacts,
        follow_ups,
        deleted_contacts,
    }
}

/// A deleted contact with who deleted it and when: the latest write (by HLC) of `deleted`
/// true in its history; `me` is this laptop's author (`Store::author`).
pub fn deleted_contact(
    store: &Store,
    contact: &Record,
    me: &str,
) -> Result<DeletedContactView, StoreError> {
    let history = store.field_history("contact", *contact.id().as_uuid(), "deleted")?;
    let deletion = history
        .iter()
        .filter(|row| row.value == "true")
        .max_by(|a, b| a.hlc.cmp(&b.hlc));
    let deleted_at = deletion
        .and_then(|row| Hlc::parse(&row.hlc).ok())
        .and_then(|hlc| i64::try_from(hlc.physical_ms()).ok())
        .and_then(DateTime::<Utc>::from_timestamp_millis)
        .map(|at| at.to_rfc3339_opts(SecondsFormat::Secs, true));
    Ok(DeletedContactView {
        contact: contact_view(contact),
        deleted_by: deletion.map(|row| row.author_id.clone()),
        deleted_by_me: deletion.is_some_and(|row| row.author_id == me),
        deleted_at,
    })
}

/// Usernames by user id, as the UI keys them: everyone this laptop can name
/// (`Store::known_user_names`).
pub fn user_names(names: BTreeMap<Uuid, String>) -> BTreeMap<String, String> {
    names
        .into_iter()
        .map(|(id, name)| (id.to_string(), name))
        .collect()
}

/// The sites, and where `coach` (the signed-in user) logged their newest contact, unless
/// that site was archived since.
pub fn sites(store: &Store, coach: Option<Uuid>) -> Result<SitesView, StoreError> {
    let sites = store.sites()?;
    let last = match coach {
        Some(coach) => store.last_site_of(coach)?,
        None => None,
    };
    let last_used = last
        .filter(|id| sites.iter().any(|site| site.id == *id && !site.archived))
        .map(|id| id.to_string());
    Ok(SitesView {
        sites: sites
            .into_iter()
            .map(|site| SiteView {
                id: site.id.to_string(),
                name: site.name,
                archived: site.archived,
            })
            .collect(),
        last_used,
    })
}

/// The last day of the week (Sunday) that `today` lies in.
pub fn end_of_week(today: NaiveDate) -> NaiveDate {
    today + Duration::days(i64::from(6 - today.weekday().num_days_from_monday()))
}

/// How many follow-ups each group of the Follow-ups screen lists (it counts them all).
pub const FOLLOW_UPS_LISTED: usize = 100;

/// The groups of the Follow-ups screen on `today`, as spans of due days (from, until) and
/// orders: overdue (the most recently due first: a long list starts with what is still
/// fresh, and every follow-up stays in its client's profile), today, and later this week
/// (up to Sunday; empty on a Sunday).
pub fn follow_up_spans(today: NaiveDate) -> [(Option<NaiveDate>, NaiveDate, DueOrder); 3] {
    let day = Duration::days(1);
    [
        (None, today - day, DueOrder::LatestFirst),
        (Some(today), today, DueOrder::EarliestFirst),
        (
            Some(today + day),
            end_of_week(today),
            DueOrder::EarliestFirst,
        ),
    ]
}

/// The Follow-ups screen: the open follow-ups overdue, due today and later this week (of
/// the contacts of `coach`, or of the whole team), each group with its first
/// `FOLLOW_UPS_LISTED` and how many there are, with their clients.
pub fn follow_ups_due(
    store: &Store,
    today: NaiveDate,
    coach: Option<Uuid>,
) -> Result<FollowUpsDue, StoreError> {
    // One read for the three groups, so that a sync committing meanwhile cannot show a
    // contact in two of them (its day moved) or in none.
    let _read = store.read_snapshot()?;
    let mut clients: BTreeMap<String, Option<ClientSummary>> = BTreeMap::new();
    let mut group = |(from, until, order)| -> Result<FollowUpGroup, StoreError> {
        let found = store.open_follow_ups(from, until, coach, order, FOLLOW_UPS_LISTED)?;
        let mut items = Vec::with_capacity(found.contacts.len());
        for contact in &found.contacts {
            let contact = contact_view(contact);
            let client = client_of(store, &mut clients, &contact)?;
            items.push(FollowUpItem { contact, client });
        }
        Ok(FollowUpGroup {
            items,
            total: found.total,
        })
    };
    let [overdue, due_today, this_week] = follow_up_spans(today);
    Ok(FollowUpsDue {
        overdue: group(overdue)?,
        today: group(due_today)?,
        this_week: group(this_week)?,
    })
}

/// The client of `contact` (none for an anonymous visitor, or one this store does not hold),
/// each read once for a list (`clients`).
fn client_of(
    store: &Store,
    clients: &mut BTreeMap<String, Option<ClientSummary>>,
    contact: &ContactView,
) -> Result<Option<ClientSummary>, StoreError> {
    let Some(id) = &contact.client_id else {
        return Ok(None);
    };
    if let Some(client) = clients.get(id) {
        return Ok(client.clone());
    }
    let client = store
        .record(Entity::Client, RecordId::parse(id)?)?
        .as_ref()
        .map(client_summary);
    clients.insert(id.clone(), client.clone());
    Ok(client)
}

/// The most contacts the Today screen lists for each day asked for (the newest).
pub const LOGGED_LISTED_A_DAY: usize = 100;

/// The most days the Today screen lists a coach's contacts of (a week).
pub const LOGGED_DAYS_MAX: u32 = 7;

/// The contacts `coach` logged from `since` on (the start of the first of `days` days; those
/// dated later too), newest first, at most [`LOGGED_LISTED_A_DAY`] a day asked for: those not
/// deleted, and those the coach deleted (`me`: this laptop's author, `Store::author`).
pub fn logged_contacts(
    store: &Store,
    coach: Uuid,
    (since, days): (DateTime<Utc>, u32),
    me: &str,
) -> Result<LoggedContacts, StoreError> {
    let limit = LOGGED_LISTED_A_DAY * usize::try_from(days).unwrap_or(usize::MAX);
    // One more than listed tells whether there are more.
    let mut contacts = store.contacts_of_coach_since(coach, since, limit.saturating_add(1))?;
    let more = contacts.len() > limit;
    contacts.truncate(limit);
    let mut clients: BTreeMap<String, Option<ClientSummary>> = BTreeMap::new();
    let mut logged = Vec::with_capacity(contacts.len());
    for contact in &contacts {
        let deleted = contact.is_deleted();
        if deleted && !deleted_contact(store, contact, me)?.deleted_by_me {
            continue;
        }
        let view = contact_view(contact);
        let client = client_of(store, &mut clients, &view)?;
        logged.push(LoggedContact {
            contact: view,
            client,
            deleted,
        });
    }
    Ok(LoggedContacts {
        items: logged,
        more,
    })
}

/// The Today screen's recent clients (`Store::recent_clients`).
pub fn recent_clients(store: &Store, limit: usize) -> Result<Vec<ClientSummary>, StoreError> {
    Ok(store
        .recent_clients(limit)?
        .iter()
        .map(client_summary)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    use tandem_domain::{Entity, RecordId};

    use serde_json::json;
    use tandem_domain::ValidationContext;

    fn day(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    fn contact(n: u128, client: Option<&str>, at: &str, follow_up: Option<&str>) -> Record {
        let id = RecordId::parse(&format!("0190f0c4-8d5e-7c3a-9f1e-{n:012}")).unwrap();
        let mut input = BTreeMap::new();
        input.insert("occurred_at".to_owned(), json!(at));
        if let Some(client) = client {
            input.insert("client_id".to_owned(), json!(client));
        }
        if let Some(on) = follow_up {
            input.insert("follow_up_on".to_owned(), json!(on));
        }
        Record::create(
            Entity::Contact,
            id,
            &input,
            ValidationContext::new(day("2026-11-26")),
        )
        .unwrap()
    }

    const AMINA: &str = "0190f0c4-8d5e-7c3a-9f1e-00000000000a";

    #[test]
    fn the_week_ends_on_sunday() {
        assert_eq!(end_of_week(day("2026-11-26")), day("2026-11-29"));
        assert_eq!(end_of_week(day("2026-11-29")), day("2026-11-29"));
        assert_eq!(end_of_week(day("2026-11-30")), day("2026-12-06"));
    }

    #[test]
    fn the_follow_up_groups_are_overdue_today_and_the_rest_of_the_week() {
        let [overdue, today, later] = follow_up_spans(day("2026-11-26"));
        assert_eq!(overdue, (None, day("2026-11-25"), DueOrder::LatestFirst));
        assert_eq!(
            today,
            (
                Some(day("2026-11-26")),
                day("2026-11-26"),
                DueOrder::EarliestFirst
            )
        );
        assert_eq!(
            later,
            (
                Some(day("2026-11-27")),
                day("2026-11-29"),
                DueOrder::EarliestFirst
            )
        );
        // On a Sunday nothing is left of the week.
        let [_, _, (from, until, _)] = follow_up_spans(day("2026-11-29"));
        assert!(from > Some(until));
    }

    #[test]
    fn a_contact_view_carries_sets_dates_and_flags_in_wire_form() {
        let view = contact_view(&contact(
            1,
            Some(AMINA),
            "2026-11-20T10:00:00+02:00",
            Some("2026-12-01"),
        ));
        assert_eq!(view.client_id.as_deref(), Some(AMINA));
        assert_eq!(view.occurred_at, "2026-11-20T10:00:00+02:00");
        assert_eq!(view.follow_up_on.as_deref(), Some("2026-12-01"));
        assert!(!view.follow_up_done);
        assert!(view.topics.is_empty());
    }

    #[test]
    fn the_contact_form_starts_at_the_coachs_last_site_unless_it_was_archived() {
        let (_dir, mut store) = crate::test_store();
        let coach = Uuid::from_u128(0x9001);
        let library = Uuid::from_u128(1);
        let fields = BTreeMap::from([
            ("coach_id".to_owned(), json!(coach.to_string())),
            ("occurred_at".to_owned(), json!("2026-11-26T09:30:00+02:00")),
            ("site".to_owned(), json!(library.to_string())),
        ]);
        let at = chrono::DateTime::parse_from_rfc3339("2026-11-26T09:31:00+02:00").unwrap();
        store
            .create_record(
                Entity::Contact,
                &fields,
                tandem_store::EditContext::at(at.into()),
            )
            .unwrap();
        let site = |archived| tandem_store::Site {
            id: library,
            name: "Myyrmäki library drop-in".to_owned(),
            archived,
        };
        store.replace_sites(&[site(false)]).unwrap();
        let view = sites(&store, Some(coach)).unwrap();
        assert_eq!(view.last_used, Some(library.to_string()));
        assert_eq!(view.sites[0].name, "Myyrmäki library drop-in");
        assert_eq!(
            sites(&store, None).unwrap().last_used,
            None,
            "no one signed in"
        );

        store.replace_sites(&[site(true)]).unwrap();
        let view = sites(&store, Some(coach)).unwrap();
        assert_eq!(view.last_used, None, "an archived site is not offered");
        assert!(view.sites[0].archived, "but still named");
    }

    #[test]
    fn a_coachs_day_lists_their_contacts_and_their_own_deletions_with_each_client() {
        let (_dir, mut store) = crate::test_store();
        let coach1 = crate::sign_in_as(0x9001, "coach1");
        store.record_sign_in(&coach1).unwrap();
        let at = |text: &str| {
            tandem_store::EditContext::at(
                chrono::DateTime::parse_from_rfc3339(text).unwrap().into(),
            )
        };
        let fields =
            |value: serde_json::Value| -> FieldValues { serde_json::from_value(value).unwrap() };
        let morning = at("2026-12-07T08:00:00+02:00");
        let amina = store
            .create_record(
                Entity::Client,
                &fields(json!({"given_name": "Amina"})),
                morning,
            )
            .unwrap();
        let log = |store: &mut Store, occurred_at: &str, client: Option<RecordId>| {
            let mut input = fields(json!({"occurred_at": occurred_at, "channel": "drop_in"}));
            if let Some(client) = client {
                input.insert("client_id".to_owned(), json!(client.to_string()));
            }
            store
                .create_record(Entity::Contact, &input, morning)
                .unwrap()
        };
        log(&mut store, "2026-12-06T16:00:00+02:00", Some(amina)); // yesterday
        let visit = log(&mut store, "2026-12-07T09:00:00+02:00", None);
        let with_amina = log(&mut store, "2026-12-07T10:00:00+02:00", Some(amina));
        let mine_deleted = log(&mut store, "2026-12-07T11:00:00+02:00", None);
        let deleted = fields(json!({"deleted": true}));
        store
            .edit_record(Entity::Contact, mine_deleted, &deleted, morning)
            .unwrap();
        // A colleague's contact of the day, logged on another laptop and pulled.
        let mut theirs = fields(json!({"occurred_at": "2026-12-07T12:30:00+02:00"}));
        let colleague = uuid::Uuid::from_u128(0x9002).to_string();
        theirs.insert("coach_id".to_owned(), json!(colleague));
        store
            .create_record(Entity::Contact, &theirs, morning)
            .unwrap();

        let today = chrono::DateTime::parse_from_rfc3339("2026-12-07T00:00:00+02:00")
            .unwrap()
            .to_utc();
        let me = store.author().unwrap();
        let day = logged_contacts(&store, coach1.user_id, (today, 1), &me).unwrap();
        assert!(!day.more);
        let listed: Vec<(String, Option<String>, bool)> = day
            .items
            .iter()
            .map(|logged| {
                let client = logged.client.as_ref().map(|c| c.given_name.clone());
                (logged.contact.id.clone(), client, logged.deleted)
            })
            .collect();
        assert_eq!(
            listed,
            [
                (mine_deleted.to_string(), None, true),
                (with_amina.to_string(), Some("Amina".to_owned()), false),
                (visit.to_string(), None, false),
            ]
        );
        // Deleted by someone else than the one asking: not offered back here.
        let theirs = logged_contacts(&store, coach1.user_id, (today, 1), "a-colleague").unwrap();
        let ids: Vec<&str> = theirs
            .items
            .iter()
            .map(|logged| logged.contact.id.as_str())
            .collect();
        assert_eq!(ids, [with_amina.to_string(), visit.to_string()]);
    }

    #[test]
    fn a_coachs_busy_day_lists_the_newest_hundred_and_says_there_are_more() {
        let (_dir, mut store) = crate::test_store();
        let coach1 = crate::sign_in_as(0x9001, "coach1");
        store.record_sign_in(&coach1).unwrap();
        let at = chrono::DateTime::parse_from_rfc3339("2026-12-07T18:00:00+02:00").unwrap();
        let visits = LOGGED_LISTED_A_DAY + 1;
        for minute in 0..visits {
            let occurred_at = at - chrono::Duration::minutes(i64::try_from(minute).unwrap());
            let input: FieldValues = serde_json::from_value(
                json!({"occurred_at": occurred_at.to_rfc3339(), "channel": "drop_in"}),
            )
            .unwrap();
            let edit = tandem_store::EditContext::at(at.into());
            store.create_record(Entity::Contact, &input, edit).unwrap();
        }
        let morning = chrono::DateTime::parse_from_rfc3339("2026-12-07T00:00:00+02:00").unwrap();
        let me = store.author().unwrap();
        let day = logged_contacts(&store, coach1.user_id, (morning.into(), 1), &me).unwrap();
        assert_eq!((day.items.len(), day.more), (LOGGED_LISTED_A_DAY, true));
        assert_eq!(day.items[0].contact.occurred_at, at.to_rfc3339());
        // Two days asked for: room for all of them.
        let days = logged_contacts(&store, coach1.user_id, (morning.into(), 2), &me).unwrap();
        assert_eq!((days.items.len(), days.more), (visits, false));
    }
}
